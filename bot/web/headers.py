"""The security headers every page of the web server carries."""

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action {form_action}"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP.format(form_action="'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
