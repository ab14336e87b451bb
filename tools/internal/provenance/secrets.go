package provenance

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// A base URL may carry credentials (http://user:KEY@host), and a server may
// echo the key it was sent in an error. Nothing Forge stores or prints may
// hold either: records, summaries, provenance, logs and messages go
// through a Redactor built from the secrets of the target.

// Redacted is rawURL without its userinfo (user name and password alike:
// either may be the key), for storing and printing.
func Redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.LastIndex(rawURL, "@"); i >= 0 { // no userinfo even from a URL that does not parse
			return "…@" + rawURL[i+1:]
		}
		return rawURL
	}
	if u.User == nil {
		return rawURL
	}
	u.User = nil
	return u.String()
}

// Redactor removes secrets from text.
type Redactor struct{ secrets []string }

// NewRedactor redacts apiKey and the userinfo of baseURL. Pieces shorter
// than 3 bytes are left alone: removing them would garble every message,
// and they protect nothing.
func NewRedactor(apiKey, baseURL string) Redactor {
	var r Redactor
	add := func(s string) {
		if len(s) >= 3 {
			r.secrets = append(r.secrets, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	add(apiKey)
	if u, err := url.Parse(baseURL); err == nil && u.User != nil {
		add(u.User.Username())
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		add(u.User.String())
	}
	return r
}

// Redact replaces every secret in s with [REDACTED].
func (r Redactor) Redact(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
	}
	return s
}

// ErrCrossOrigin is a redirect to another origin, which is not followed:
// it would carry the request, and Go keeps the Authorization header on a
// redirect to the same host at another port.
var ErrCrossOrigin = errors.New("redirect to another origin not followed (the API key is sent only to the server given)")

// SameOriginRedirects is an http.Client CheckRedirect that follows a
// redirect only to the same scheme, host and port as the first request.
func SameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	from, to := via[0].URL, req.URL
	if from.Scheme != to.Scheme || !strings.EqualFold(from.Hostname(), to.Hostname()) || port(from) != port(to) {
		return fmt.Errorf("%w: %s to %s", ErrCrossOrigin, origin(from), origin(to))
	}
	return nil
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func origin(u *url.URL) string {
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port(u))
}

// CheckBaseURL says whether s can be a server's base URL: http or https,
// with a host. Its message never quotes credentials.
func CheckBaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q does not parse as a URL; give e.g. http://127.0.0.1:8000", Redacted(s))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: the scheme must be http or https (give e.g. http://127.0.0.1:8000)", Redacted(s))
	case u.Hostname() == "":
		return fmt.Errorf("%q has no host; give e.g. http://127.0.0.1:8000", Redacted(s))
	}
	return nil
}
