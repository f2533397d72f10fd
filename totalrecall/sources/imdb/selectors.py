"""Every selector the IMDb connector uses, in one place, named by page and control for error messages.

IMDb has no API and changes its pages; when one of these stops matching, the connector reports
"IMDb page layout changed at <page>/<control>" and this file is the one to update. Where a hook comes
from is noted beside it: `data-testid` hooks as public tools that drive imdb.com document them (e.g.
RileyXX/IMDB-Trakt-Syncer, cecobask/imdb-trakt-sync, Cypress and Playwright scripts against imdb.com),
and the ids of the Amazon sign-in form IMDb uses. Hooks marked "unverified" were not found in such a
source and follow IMDb's markup conventions.
"""

from __future__ import annotations

from totalrecall.browser import Hook

__all__ = ["Hook", "ALL_HOOKS", "rate_star", "watched_button"]


# --- sign-in (Amazon "ap" form behind "Sign in with IMDb") --------------------------------------------
SIGNIN_OPTIONS = Hook("signin", "options", "#signin-options")  # Cypress tests against imdb.com
SIGNIN_WITH_IMDB = Hook("signin", "sign in with IMDb", "#signin-options a[href*='/ap/signin']")
SIGNIN_EMAIL = Hook("signin", "email", "#ap_email")  # Amazon sign-in form ids, widely scripted
SIGNIN_PASSWORD = Hook("signin", "password", "#ap_password")
SIGNIN_SUBMIT = Hook("signin", "submit", "#signInSubmit")
SIGNIN_ERROR = Hook("signin", "error", "#auth-error-message-box")  # unverified
CAPTCHA = Hook("signin", "captcha", "#auth-captcha-guess, #captchacharacters")  # Amazon captcha fields
TWO_FACTOR = Hook("signin", "two-step verification", "#auth-mfa-otpcode")  # Amazon OTP field
# Signed in: the account menu in IMDb's navigation bar (Playwright tool: role button "Toggle account menu").
ACCOUNT_MENU = Hook("navigation", "account menu", "[aria-label='Toggle account menu']")

# --- title page ----------------------------------------------------------------------------------------
USER_RATING = Hook("title", "rating", "[data-testid='hero-rating-bar__user-rating']")
USER_RATING_BUTTON = Hook("title", "rating button", "[data-testid='hero-rating-bar__user-rating'] button")
USER_RATING_SCORE = Hook("title", "rating score", "[data-testid='hero-rating-bar__user-rating__score'] span")
USER_RATING_UNRATED = Hook("title", "rating (unrated)", "[data-testid='hero-rating-bar__user-rating__unrated']")
RATING_PROMPT = Hook("title", "rating dialog", ".ipc-rating-prompt")
RATING_SUBMIT = Hook("title", "rating dialog submit", ".ipc-rating-prompt__rating-container > .ipc-btn")
RATING_REMOVE = Hook("title", "remove rating", ".ipc-rating-prompt .ipc-rating-prompt__remove")  # unverified
WATCHLIST_LOADER = Hook("title", "watchlist loader", "[data-testid='tm-box-wl-loader']")
WATCHLIST_BUTTON = Hook("title", "watchlist", "button[data-testid='tm-box-wl-button']")
WATCHLIST_ADD_ICON = Hook("title", "watchlist icon", ".ipc-icon--add")  # present while not on the watchlist


def rate_star(value: int) -> Hook:
    """The star `value` in the rating dialog ("Rate 8")."""
    return Hook("title", f"rating star {value}", f".ipc-rating-prompt button[aria-label='Rate {value}']")


def watched_button(imdb_id: str) -> Hook:
    """The check-in ("watched") toggle of a title; its aria-label starts with "Watched" once checked in."""
    return Hook("title", "check-in", f"[data-testid='watched-button-{imdb_id}']")


# --- review form (contribute.imdb.com/review/<tt>/add) -----------------------------------------------
REVIEW_HEADLINE = Hook("review form", "headline", "#text-input__0")
REVIEW_TEXT = Hook("review form", "text", "#textarea__0")
REVIEW_SPOILER_YES = Hook("review form", "spoiler yes", "#is_spoiler-0")
REVIEW_SPOILER_NO = Hook("review form", "spoiler no", "#is_spoiler-1")
REVIEW_SUBMIT = Hook("review form", "submit", "button[aria-label='Submit']")

# --- the user's reviews pages ---------------------------------------------------------------------------
REVIEWS_PAGE = Hook("reviews", "list", "[data-testid='user-reviews-list'], .lister-list")  # unverified
REVIEW_CARD = Hook("reviews", "review", "article.user-review-item, .lister-item")
REVIEW_TITLE_LINK = Hook("reviews", "title link", "a[href*='/title/tt']")
REVIEW_BODY = Hook("reviews", "review text", ".ipc-html-content-inner-div, .text.show-more__control")
REVIEW_DATE = Hook("reviews", "review date", ".review-date")
REVIEW_SPOILER = Hook("reviews", "spoiler warning", ".spoiler-warning")
REVIEWS_NEXT = Hook("reviews", "next page", "a[rel='next']")  # unverified

# --- lists and the exports page --------------------------------------------------------------------------
LIST_EXPORT_BUTTON = Hook("list", "export", "div[data-testid='hero-list-subnav-export-button'] button")
EXPORTS_PAGE = Hook("exports", "list", "[data-testid='exports-list'], ul.ipc-metadata-list")  # unverified
EXPORTS_ROW = Hook("exports", "export", "li[data-testid='user-ll-item']")
EXPORTS_ROW_LINK = Hook("exports", "export name", "a.ipc-metadata-list-summary-item__t")
EXPORTS_STATUS = Hook("exports", "status", "[data-testid='export-status-button']")

ALL_HOOKS: tuple[Hook, ...] = tuple(value for value in list(globals().values()) if isinstance(value, Hook))

# --- page states shared by several pages ---------------------------------------------------------------
NOT_FOUND = Hook("title", "not found", "[data-testid='error-page'], .error-page")  # unverified
TITLE_JSON_LD = Hook("title", "structured data", "script[type='application/ld+json']")
BROWSER_ERROR_PAGE = Hook("browser", "network error page", "body.neterror, #main-frame-error")  # Chromium's
PROFILE_LINK = Hook("navigation", "profile", "a[href*='/user/ur']")  # unverified

ALL_HOOKS = tuple(value for value in list(globals().values()) if isinstance(value, Hook))
