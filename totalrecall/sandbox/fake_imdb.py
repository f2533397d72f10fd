"""A fake imdb.com: sign-in, title pages with rating/watchlist/check-in controls, reviews, and CSV exports.

Pages carry the same stable hooks the real site exposes (data-testid attributes, the Amazon sign-in form
ids; see totalrecall/sources/imdb/selectors.py). The in-page controls call the site's documented web
endpoints (`PUT|DELETE /watchlist/<tt>`, `POST /ratings/_ajax/title`) with the session cookie. Switches
for tests and the sandbox: `show_captcha(True)` puts a captcha in front of sign-in and every page,
`change_layout(True)` serves title pages whose hooks were renamed, `require_two_factor(True)` asks for a
one-time code after the password. They are also POST /__fake__/imdb/{captcha|layout|two_factor}
with {"on": true|false}.
"""

from __future__ import annotations

import csv
import html
import io
import json
import secrets
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

from totalrecall.model import Kind
from totalrecall.sandbox.catalogue import CatalogueEntry, load_catalogue
from totalrecall.sandbox.fakebase import (
    CONTROL_PREFIX,
    FakeHTTPError,
    FakeRequest,
    FakeResponse,
    FakeService,
    route,
)

__all__ = ["FakeImdb", "SESSION_COOKIE", "LIST_LIMIT"]

SESSION_COOKIE = "at-main"
LIST_LIMIT = 10_000
_LIST_NAMES = {"ratings": "Your Ratings", "watchlist": "Your Watchlist", "checkins": "Your Check-Ins"}
_TYPES_CLASSIC = {Kind.MOVIE: "movie", Kind.SHOW: "tvSeries", Kind.EPISODE: "tvEpisode"}
_TYPES_2024 = {Kind.MOVIE: "Movie", Kind.SHOW: "TV Series", Kind.EPISODE: "TV Episode"}
_JSON_LD = {Kind.MOVIE: "Movie", Kind.SHOW: "TVSeries", Kind.EPISODE: "TVEpisode"}
_REVIEWS_PER_PAGE = 5

# The export headers IMDb writes, taken from the exports themselves and never from the connector's parser
# (a parser's misreading must not pass against a fake built from it). Classic layouts: the header rows of
# real exports (ratings: ronilaukkarinen/rollekino imdb_ratings.csv; lists: matkv/IMDBRandomMovie
# WATCHLIST.csv, whose 2016 export appends "Your Rating,Date Rated"), as recorded in
# ../shared/specs/API-NOTES.md §4. 2024+ layouts: "Original Title" after "Title" (the ratings header of
# myqzurdux3/cinetier tests/fixtures/imdb-ratings.csv, MIT); list exports keep the rating tail.
RATINGS_CLASSIC = (
    "Const,Your Rating,Date Rated,Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,Num Votes,"
    "Release Date,Directors"
).split(",")
RATINGS_2024 = (
    "Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,"
    "Num Votes,Release Date,Directors"
).split(",")
LIST_CLASSIC = (
    "Position,Const,Created,Modified,Description,Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,"
    "Num Votes,Release Date,Directors"
).split(",")
LIST_2024 = (
    "Position,Const,Created,Modified,Description,Title,Original Title,URL,Title Type,IMDb Rating,Runtime (mins),"
    "Year,Genres,Num Votes,Release Date,Directors,Your Rating,Date Rated"
).split(",")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str, *, user: str | None = None, status: int = 200) -> FakeResponse:
    if user:
        nav = f'<label aria-label="Toggle account menu" role="button">{_e(user)}</label>'
        nav += ' <a href="/profile">Your profile</a>'
    else:
        nav = '<a href="/registration/signin">Sign In</a>'
    document = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)} - IMDb</title></head><body><nav id='imdbHeader'>{nav}</nav>"
        f"<main>{body}</main></body></html>"
    )
    return FakeResponse(status, document, {"Content-Type": "text/html; charset=utf-8"})


def _redirect(location: str, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(303, "", {"Location": location, **(headers or {})})


class FakeImdb(FakeService):
    name = "imdb"

    def __init__(self, *args: Any, users: dict[str, str] | None = None, **kwargs: Any) -> None:
        self._catalogue = load_catalogue()
        super().__init__(*args, **kwargs)
        for email, password in (users or {}).items():
            self.add_user(email, password)

    # -- state --------------------------------------------------------------------------------------
    def initial_state(self) -> dict[str, Any]:
        return {
            "users": {},
            "sessions": {},
            "ratings": {},
            "watchlist": {},
            "checkins": {},
            "reviews": [],
            "exports": [],
            "switches": {"captcha": False, "layout": False, "two_factor": False},
            "export_layout": "2024",
            "export_ready_after": 1,
            "list_limit": LIST_LIMIT,
        }

    def add_user(self, email: str, password: str, name: str = "Sandbox Viewer") -> str:
        with self.lock:
            user_id = f"ur{90000001 + len(self.state['users'])}"
            self.state["users"][email.lower()] = {"password": password, "id": user_id, "name": name}
            return user_id

    def show_captcha(self, on: bool = True) -> None:
        with self.lock:
            self.state["switches"]["captcha"] = on

    def change_layout(self, on: bool = True) -> None:
        with self.lock:
            self.state["switches"]["layout"] = on

    def require_two_factor(self, on: bool = True) -> None:
        with self.lock:
            self.state["switches"]["two_factor"] = on

    def title(self, imdb_id: str) -> CatalogueEntry | None:
        return self._catalogue.find("imdb", imdb_id)

    def _now(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def _user(self, request: FakeRequest) -> dict[str, Any] | None:
        token = request.cookies.get(SESSION_COOKIE)
        email = self.state["sessions"].get(token) if token else None
        return self.state["users"].get(email) if email else None

    def _require_user(self, request: FakeRequest) -> dict[str, Any]:
        user = self._user(request)
        if user is None:
            raise FakeHTTPError(401, {"status": 401, "error": "sign in required"})
        return user

    def _blocked(self) -> FakeResponse | None:
        if self.state["switches"]["captcha"]:
            return _captcha_page()
        return None

    def _control(self, request: FakeRequest) -> FakeResponse:
        switch = request.path.removeprefix(CONTROL_PREFIX + "/imdb/")
        if request.method == "POST" and switch in ("captcha", "layout", "two_factor"):
            body = request.json() or {}
            with self.lock:
                self.state["switches"][switch] = bool(body.get("on", True))
            return FakeResponse(200, {"switches": self.state["switches"]})
        return super()._control(request)

    # -- sign-in -------------------------------------------------------------------------------------
    @route("GET", r"/")
    def home(self, request: FakeRequest) -> FakeResponse:
        blocked = self._blocked()
        if blocked:
            return blocked
        user = self._user(request)
        return _page("IMDb", "<h1>What to watch</h1>", user=user["name"] if user else None)

    @route("GET", r"/registration/signin")
    def signin_options(self, request: FakeRequest) -> FakeResponse:
        body = (
            "<div id='signin-options'><h1>Sign in</h1><div class='list-group'>"
            "<a class='list-group-item' href='/ap/signin?openid.assoc_handle=imdb_us'>Sign in with IMDb</a>"
            "<a class='list-group-item' href='/ap/signin?openid.assoc_handle=amzn_imdb'>Sign in with Amazon</a>"
            "<a class='list-group-item' href='#google'>Sign in with Google</a>"
            "<a class='list-group-item' href='#apple'>Sign in with Apple</a></div></div>"
        )
        return _page("Sign in", body)

    @route("GET", r"/ap/signin")
    def signin_form(self, request: FakeRequest) -> FakeResponse:
        return _signin_form(captcha=self.state["switches"]["captcha"])

    @route("POST", r"/ap/signin")
    def signin_submit(self, request: FakeRequest) -> FakeResponse:
        form = request.form()
        if self.state["switches"]["captcha"]:
            return _signin_form(captcha=True, error="Enter the characters as they are shown in the image.")
        user = self.state["users"].get(form.get("email", "").lower())
        if user is None or not secrets.compare_digest(user["password"], form.get("password", "")):
            return _signin_form(error="Your password is incorrect")
        if self.state["switches"]["two_factor"]:
            body = (
                "<form method='post' action='/ap/mfa'><h1>Two-Step Verification</h1>"
                "<input id='auth-mfa-otpcode' name='otpCode'><input id='auth-signin-button' type='submit'></form>"
            )
            return _page("Two-Step Verification", body)
        token = secrets.token_urlsafe(24)
        self.state["sessions"][token] = form["email"].lower()
        cookie = f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax"
        return _redirect("/", {"Set-Cookie": cookie})

    @route("GET", r"/profile")
    def profile(self, request: FakeRequest) -> FakeResponse:
        user = self._user(request)
        if user is None:
            return _redirect("/registration/signin")
        return _redirect(f"/user/{user['id']}/")

    @route("GET", r"/user/(?P<user_id>ur\d+)/")
    def user_page(self, request: FakeRequest, user_id: str) -> FakeResponse:
        user = self._user(request)
        body = f"<h1>{_e(user_id)}</h1><a href='/user/{user_id}/reviews/'>Reviews</a>"
        return _page("Profile", body, user=user["name"] if user else None)

    # -- title pages ------------------------------------------------------------------------------------
    @route("GET", r"/title/(?P<imdb_id>tt\d+)/")
    def title_page(self, request: FakeRequest, imdb_id: str) -> FakeResponse:
        blocked = self._blocked()
        if blocked:
            return blocked
        user = self._user(request)
        entry = self.title(imdb_id)
        if entry is None:
            body = "<div data-testid='error-page'><h1>404 Error</h1><p>The requested URL was not found.</p></div>"
            return _page("404 Error", body, user=user["name"] if user else None, status=404)
        rating = self.state["ratings"].get(imdb_id) if user else None
        on_watchlist = user is not None and imdb_id in self.state["watchlist"]
        watched = user is not None and imdb_id in self.state["checkins"]
        body = _title_body(entry, rating["value"] if rating else None, on_watchlist, watched)
        if self.state["switches"]["layout"]:
            # A redesign: the same page, but every hook the connector relies on has a new name.
            body = body.replace("data-testid=", "data-qa=").replace("ipc-rating-prompt", "rating-modal")
        return _page(entry.title, body, user=user["name"] if user else None)

    @route("POST", r"/ratings/_ajax/title")
    def rate(self, request: FakeRequest) -> dict[str, Any]:
        self._require_user(request)
        form = request.form()
        imdb_id, value = form.get("tconst", ""), form.get("rating", "")
        if self.title(imdb_id) is None:
            raise FakeHTTPError(404, {"status": 404, "error": "unknown title"})
        if not value.isdigit() or not 0 <= int(value) <= 10:
            raise FakeHTTPError(400, {"status": 400, "error": "rating must be 1-10 (0 removes)"})
        if int(value) == 0:
            self.state["ratings"].pop(imdb_id, None)
        else:
            self.state["ratings"][imdb_id] = {"value": int(value), "rated_at": self._now()}
        return {"status": 200, "rating": int(value)}

    def _list_put(self, request: FakeRequest, list_name: str, imdb_id: str) -> dict[str, Any]:
        self._require_user(request)
        if self.title(imdb_id) is None:
            raise FakeHTTPError(404, {"status": 404, "error": "unknown title"})
        items = self.state[list_name]
        if imdb_id not in items:
            if len(items) >= self.state["list_limit"]:
                raise FakeHTTPError(403, {"status": 403, "error": f"a list holds at most {self.state['list_limit']} titles"})
            items[imdb_id] = {"added_at": self._now()}
        return {"list_id": f"ls{abs(hash(list_name)) % 10**9:09d}", "list_item_id": str(len(items)), "status": 200}

    def _list_delete(self, request: FakeRequest, list_name: str, imdb_id: str) -> dict[str, Any]:
        self._require_user(request)
        self.state[list_name].pop(imdb_id, None)
        return {"status": 200}

    @route("PUT", r"/watchlist/(?P<imdb_id>tt\d+)")
    def watchlist_add(self, request: FakeRequest, imdb_id: str) -> dict[str, Any]:
        return self._list_put(request, "watchlist", imdb_id)

    @route("DELETE", r"/watchlist/(?P<imdb_id>tt\d+)")
    def watchlist_remove(self, request: FakeRequest, imdb_id: str) -> dict[str, Any]:
        return self._list_delete(request, "watchlist", imdb_id)

    @route("GET", r"/_ajax/list/watchlist/count")
    def watchlist_count(self, request: FakeRequest) -> dict[str, Any]:
        self._require_user(request)
        return {"count": len(self.state["watchlist"])}

    # Check-ins have no documented endpoint; the fake mirrors the watchlist's.
    @route("PUT", r"/checkins/(?P<imdb_id>tt\d+)")
    def checkin_add(self, request: FakeRequest, imdb_id: str) -> dict[str, Any]:
        return self._list_put(request, "checkins", imdb_id)

    @route("DELETE", r"/checkins/(?P<imdb_id>tt\d+)")
    def checkin_remove(self, request: FakeRequest, imdb_id: str) -> dict[str, Any]:
        return self._list_delete(request, "checkins", imdb_id)

    # -- reviews ------------------------------------------------------------------------------------------
    @route("GET", r"/review/(?P<imdb_id>tt\d+)/add")
    def review_form(self, request: FakeRequest, imdb_id: str) -> FakeResponse:
        blocked = self._blocked()
        if blocked:
            return blocked
        user = self._user(request)
        if user is None:
            return _redirect("/registration/signin")
        entry = self.title(imdb_id)
        if entry is None:
            return _page("404 Error", "<div data-testid='error-page'>Not found</div>", status=404)
        return _page("Add a review", _review_form(entry), user=user["name"])

    @route("POST", r"/review/(?P<imdb_id>tt\d+)/add")
    def review_submit(self, request: FakeRequest, imdb_id: str) -> FakeResponse:
        user = self._require_user(request)
        form = request.form()
        headline, text, spoiler = form.get("headline", "").strip(), form.get("text", "").strip(), form.get("is_spoiler")
        if not headline or not text or spoiler not in ("yes", "no") or self.title(imdb_id) is None:
            raise FakeHTTPError(400, {"status": 400, "error": "headline, review text and spoiler answer are required"})
        reviews = [r for r in self.state["reviews"] if not (r["user"] == user["id"] and r["imdb_id"] == imdb_id)]
        # One review per title and user: submitting again replaces it, as on IMDb.
        reviews.insert(0, {
            "user": user["id"], "imdb_id": imdb_id, "headline": headline, "text": text,
            "spoiler": spoiler == "yes", "created_at": self._now(), "id": f"rw{uuid.uuid4().int % 10**8:08d}",
        })
        self.state["reviews"] = reviews
        return _redirect(f"/user/{user['id']}/reviews/")

    @route("GET", r"/user/(?P<user_id>ur\d+)/reviews/")
    def reviews_page(self, request: FakeRequest, user_id: str) -> FakeResponse:
        user = self._user(request)
        page = max(1, int(request.arg("page", "1") or 1))
        mine = [r for r in self.state["reviews"] if r["user"] == user_id]
        chunk = mine[(page - 1) * _REVIEWS_PER_PAGE: page * _REVIEWS_PER_PAGE]
        cards = "".join(self._review_card(review) for review in chunk)
        more = ""
        if page * _REVIEWS_PER_PAGE < len(mine):
            more = f"<a rel='next' href='/user/{user_id}/reviews/?page={page + 1}'>Next</a>"
        body = f"<h1>User reviews</h1><div data-testid='user-reviews-list'>{cards}</div>{more}"
        return _page("Reviews", body, user=user["name"] if user else None)

    def _review_card(self, review: dict[str, Any]) -> str:
        entry = self.title(review["imdb_id"])
        name = entry.title if entry else review["imdb_id"]
        when = datetime.fromisoformat(review["created_at"].replace("Z", "+00:00")).strftime("%-d %B %Y")
        spoiler = "<span class='spoiler-warning'>Warning: Spoilers</span>" if review["spoiler"] else ""
        return (
            f"<article class='user-review-item'><a href='/title/{review['imdb_id']}/'>{_e(name)}</a>"
            f"<h3>{_e(review['headline'])}</h3><span class='review-date'>{when}</span>{spoiler}"
            f"<div class='ipc-html-content-inner-div'>{_e(review['text'])}</div></article>"
        )

    # -- lists and exports ----------------------------------------------------------------------------------
    @route("GET", r"/list/(?P<list_name>ratings|watchlist|checkins)")
    def list_page(self, request: FakeRequest, list_name: str) -> FakeResponse:
        blocked = self._blocked()
        if blocked:
            return blocked
        user = self._user(request)
        if user is None:
            return _redirect("/registration/signin")
        held = self.state[list_name]
        body = (
            f"<h1>{_LIST_NAMES[list_name]}</h1><p data-testid='list-page-mc-total-items'>{len(held)} titles</p>"
            "<div data-testid='hero-list-subnav-export-button'>"
            f"<button class='ipc-btn' onclick=\"startExport('{list_name}', this)\">Export</button></div>"
            "<script>function startExport(name, button) {"
            "  fetch('/_ajax/exports?pageAction=start-export', {method: 'POST',"
            "    headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'list=' + name})"
            "  .then(function (r) { button.textContent = r.ok ? 'Export started' : 'Export failed'; });"
            "}</script>"
        )
        return _page(_LIST_NAMES[list_name], body, user=user["name"])

    @route("POST", r"/_ajax/exports")
    def start_export(self, request: FakeRequest) -> dict[str, Any]:
        user = self._require_user(request)
        list_name = request.form().get("list", "")
        if list_name not in _LIST_NAMES:
            raise FakeHTTPError(400, {"status": 400, "error": "unknown list"})
        export = {
            "id": str(uuid.uuid4()), "list": list_name, "user": user["id"], "requested_at": self._now(),
            "polls": 0, "csv": self._export_csv(list_name),
        }
        self.state["exports"].insert(0, export)
        return {"status": "PROCESSING", "id": export["id"]}

    @route("GET", r"/exports/")
    def exports_page(self, request: FakeRequest) -> FakeResponse:
        blocked = self._blocked()
        if blocked:
            return blocked
        user = self._user(request)
        if user is None:
            return _redirect("/registration/signin")
        rows = []
        for export in self.state["exports"]:
            if export["user"] != user["id"]:
                continue
            # An export is prepared in the background: ready after the page was looked at a few times.
            export["polls"] += 1
            ready = export["polls"] > self.state["export_ready_after"]
            href = f"/user/{user['id']}/ratings/" if export["list"] == "ratings" else f"/list/{export['list']}"
            if ready:
                status = (
                    "<button data-testid='export-status-button' class='ipc-btn READY' "
                    f"aria-label='Download {_LIST_NAMES[export['list']]}' "
                    f"onclick=\"location.href='/exports/download/{export['id']}'\">Ready</button>"
                )
            else:
                status = "<span data-testid='export-status-button' class='ipc-btn PROCESSING'>In progress</span>"
            rows.append(
                "<li data-testid='user-ll-item' class='ipc-metadata-list-summary-item'>"
                f"<a class='ipc-metadata-list-summary-item__t' href='{href}'>{_LIST_NAMES[export['list']]}</a>"
                f"<span>{export['requested_at'][:10]}</span>{status}</li>"
            )
        self.save_state()
        body = f"<h1>Exports</h1><ul class='ipc-metadata-list' data-testid='exports-list'>{''.join(rows)}</ul>"
        return _page("Exports", body, user=user["name"])

    @route("GET", r"/exports/download/(?P<export_id>[0-9a-f-]+)")
    def export_download(self, request: FakeRequest, export_id: str) -> FakeResponse:
        user = self._require_user(request)
        for export in self.state["exports"]:
            if export["id"] == export_id and export["user"] == user["id"]:
                if export["polls"] <= self.state["export_ready_after"]:
                    raise FakeHTTPError(409, {"status": 409, "error": "export not ready"})
                return FakeResponse(
                    200,
                    export["csv"].encode("utf-8"),
                    {
                        "Content-Type": "text/csv; charset=utf-8",
                        "Content-Disposition": f"attachment; filename=\"{quote(export_id)}.csv\"",
                    },
                )
        raise FakeHTTPError(404, {"status": 404, "error": "no such export"})

    def _export_csv(self, list_name: str) -> str:
        classic = self.state["export_layout"] == "classic"
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if list_name == "ratings":
            writer.writerow(RATINGS_CLASSIC if classic else RATINGS_2024)
            for imdb_id, rating in self.state["ratings"].items():
                entry = self.title(imdb_id)
                if entry is None:
                    continue
                writer.writerow(self._columns(entry, classic, [imdb_id, rating["value"], rating["rated_at"][:10]]))
            return out.getvalue()
        writer.writerow(LIST_CLASSIC if classic else LIST_2024)
        for position, (imdb_id, held) in enumerate(self.state[list_name].items(), start=1):
            entry = self.title(imdb_id)
            if entry is None:
                continue
            day = held["added_at"][:10]
            row = self._columns(entry, classic, [position, imdb_id, day, day, ""])
            if not classic:
                rating = self.state["ratings"].get(imdb_id)
                row += [rating["value"], rating["rated_at"][:10]] if rating else ["", ""]
            writer.writerow(row)
        return out.getvalue()

    def _columns(self, entry: CatalogueEntry, classic: bool, leading: list[Any]) -> list[Any]:
        imdb_id = entry.ids.imdb
        title = f"{entry.show.title}: {entry.title}" if entry.kind is Kind.EPISODE and entry.show else entry.title
        types = _TYPES_CLASSIC if classic else _TYPES_2024
        names = [title] if classic else [title, title]
        return [
            *leading, *names, f"https://www.imdb.com/title/{imdb_id}/", types[entry.kind], "7.5", "120",
            entry.year or "", "Drama", "100000", f"{entry.year}-01-01" if entry.year else "", "",
        ]


def _captcha_page() -> FakeResponse:
    body = (
        "<form method='post' action='/errors/validateCaptcha'><h4>Enter the characters you see below</h4>"
        "<img src='/captcha.jpg' alt='captcha'><input id='captchacharacters' name='field-keywords'>"
        "<button type='submit'>Continue</button></form>"
    )
    return _page("Robot Check", body, status=200)


def _signin_form(*, captcha: bool = False, error: str | None = None) -> FakeResponse:
    alert = f"<div id='auth-error-message-box'><h4>There was a problem</h4>{_e(error)}</div>" if error else ""
    puzzle = (
        "<img id='auth-captcha-image' src='/captcha.jpg'><input id='auth-captcha-guess' name='guess'>"
        if captcha else ""
    )
    body = (
        f"<h1>Sign in</h1>{alert}<form name='signIn' method='post' action='/ap/signin'>"
        "<input type='email' id='ap_email' name='email'><input type='password' id='ap_password' name='password'>"
        f"{puzzle}<input type='submit' id='signInSubmit' value='Sign in'></form>"
    )
    return _page("IMDb Sign-In", body)


def _title_body(entry: CatalogueEntry, rating: int | None, on_watchlist: bool, watched: bool) -> str:
    imdb_id = entry.ids.imdb
    json_ld = json.dumps({"@context": "https://schema.org", "@type": _JSON_LD[entry.kind], "name": entry.title})
    if rating is None:
        shown = "<div data-testid='hero-rating-bar__user-rating__unrated'><span>Rate</span></div>"
        label = f"Rate {entry.title}"
    else:
        shown = f"<div data-testid='hero-rating-bar__user-rating__score'><span>{rating}</span>/10</div>"
        label = f"Your rating: {rating}"
    stars = "".join(
        f"<button class='ipc-starbar__rating__button' aria-label='Rate {n}' onclick='pick({n})'>{n}</button>"
        for n in range(1, 11)
    )
    remove = "<button class='ipc-btn ipc-rating-prompt__remove' onclick='rate(0)'>Remove rating</button>" if rating else ""
    icon = "ipc-icon--done" if on_watchlist else "ipc-icon--add"
    watched_label = f"Watched {entry.title}" if watched else f"Mark {entry.title} as watched"
    return f"""
<script type="application/ld+json">{json_ld}</script>
<h1 data-testid="hero__pageTitle"><span class="hero__primary-text">{_e(entry.title)}</span></h1>
<div data-testid="hero-rating-bar__aggregate-rating">IMDb RATING</div>
<div data-testid="hero-rating-bar__user-rating">YOUR RATING
  <button class="ipc-btn" aria-label="{_e(label)}" onclick="openPrompt()">{shown}</button>
</div>
<div class="ipc-rating-prompt" role="dialog" style="display:none">
  <div class="ipc-starbar">{stars}</div>
  <div class="ipc-rating-prompt__rating-container"><button class="ipc-btn" disabled onclick="rate(chosen)">Rate</button></div>
  {remove}
</div>
<div data-testid="tm-box-wl-loader" style="display:none"></div>
<button data-testid="tm-box-wl-button" aria-pressed="{str(on_watchlist).lower()}" onclick="toggleList('watchlist', this)">
  <svg class="ipc-icon {icon}"></svg>Watchlist</button>
<button data-testid="watched-button-{imdb_id}" aria-pressed="{str(watched).lower()}" aria-label="{_e(watched_label)}"
  onclick="toggleList('checkins', this)">{'Watched' if watched else 'Mark as watched'}</button>
<a aria-label="Review" href="/review/{imdb_id}/add?bus=imdb&amp;site=web">Review</a>
<script>
var tconst = "{imdb_id}", chosen = 0;
function ratingPrompt() {{ return document.querySelector('.ipc-rating-prompt'); }}
function openPrompt() {{ ratingPrompt().style.display = 'block'; }}
function pick(n) {{ chosen = n; document.querySelector('.ipc-rating-prompt__rating-container > .ipc-btn').disabled = false; }}
function rate(n) {{
  fetch('/ratings/_ajax/title', {{method: 'POST', headers: {{'Content-Type': 'application/x-www-form-urlencoded'}},
    body: 'tconst=' + tconst + '&rating=' + n + '&tracking_tag=title-maindetails'}})
  .then(function (r) {{ if (r.ok) {{ ratingPrompt().style.display = 'none'; }} }});
}}
function toggleList(name, button) {{
  var on = button.getAttribute('aria-pressed') === 'true';
  fetch('/' + name + '/' + tconst, {{method: on ? 'DELETE' : 'PUT'}}).then(function (r) {{
    if (!r.ok) {{ return; }}
    button.setAttribute('aria-pressed', on ? 'false' : 'true');
    if (name === 'checkins') {{ button.setAttribute('aria-label', on ? 'Mark as watched' : 'Watched'); }}
    else {{ var icon = button.querySelector('svg'); icon.setAttribute('class', on ? 'ipc-icon ipc-icon--add' : 'ipc-icon ipc-icon--done'); }}
  }});
}}
</script>"""


def _review_form(entry: CatalogueEntry) -> str:
    return f"""
<h1>Add a review: {_e(entry.title)}</h1>
<form method="post" id="review-form">
  <label for="text-input__0">Headline</label><input id="text-input__0" name="headline" required>
  <label for="textarea__0">Your review</label><textarea id="textarea__0" name="text" required></textarea>
  <fieldset><legend>Does this review contain spoilers?</legend>
    <input type="radio" id="is_spoiler-0" name="is_spoiler" value="yes"><label for="is_spoiler-0">Yes</label>
    <input type="radio" id="is_spoiler-1" name="is_spoiler" value="no"><label for="is_spoiler-1">No</label>
  </fieldset>
  <button type="submit" aria-label="Submit">Submit</button>
</form>"""
