// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chronon-go/chronon/fetcher"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// MaxBodyBytes bounds a request body (default 1 MiB); larger bodies
	// get 413.
	MaxBodyBytes int64
	// MaxKeys bounds the key maps of one request (default 1000); more get
	// 400.
	MaxKeys int
	// Timeout bounds the work of one request (default 1s). Parts that are
	// not answered in time become _exception entries.
	Timeout time.Duration
	// Token, when set, is the bearer token every route but /ping and
	// /healthz requires (for deployments without a service mesh).
	Token string
	// Config is what GET /config shows (no secrets).
	Config map[string]any
	// Registry receives the server's and the fetcher's metrics and is
	// what /metrics serves; nil means a new registry with the Go and
	// process collectors.
	Registry *prometheus.Registry
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
}

// Server is the HTTP feature service.
type Server struct {
	echo    *echo.Echo
	fetcher *fetcher.Fetcher
	opts    Options
	log     *slog.Logger
	latency *prometheus.HistogramVec
}

// Metrics creates the registry a server and its fetcher share: the
// fetcher's metrics (pass them in fetcher.Options) and the Go and process
// collectors.
func Metrics() (*prometheus.Registry, *fetcher.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return reg, fetcher.NewMetrics(reg)
}

// New returns a server answering with f.
func New(f *fetcher.Fetcher, opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 1000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Registry == nil {
		opts.Registry, _ = Metrics()
	}
	s := &Server{fetcher: f, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "chronon_http_request_seconds",
		Help:    "Latency of feature requests, by route kind (join, group_by) and name.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"kind", "name"})
	opts.Registry.MustRegister(s.latency)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	// Echo's router matches the raw path, so "team%2Fname.v1" and
	// "team/name.v1" both reach the wildcard.
	e.Use(s.auth)
	e.POST("/v1/features/join/*", s.features(kindJoin))
	e.POST("/v1/features/groupby/*", s.features(kindGroupBy))
	e.GET("/v1/join/*", s.joinSchema)
	e.GET("/ping", func(c echo.Context) error { return c.String(http.StatusOK, "pong") })
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/config", func(c echo.Context) error { return c.JSON(http.StatusOK, s.opts.Config) })
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{})))
	s.echo = e
	return s
}

// Handler returns the server's http.Handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers on ln until ctx is done, then shuts down gracefully:
// requests in flight finish (within 10s). With certFile and keyFile it
// serves TLS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	srv := &http.Server{Handler: s.echo, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		var err error
		if certFile != "" {
			err = srv.ServeTLS(ln, certFile, keyFile)
		} else {
			err = srv.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type kind string

const (
	kindJoin    kind = "join"
	kindGroupBy kind = "group_by"
)

// Result is one element of a features response (Chronon's
// GetFeaturesResponse.Result): status Success with features, or Failure
// with error. Per-feature failures are Success with _exception features.
type Result struct {
	Status     string         `json:"status"`
	EntityKeys map[string]any `json:"entityKeys"`
	Features   map[string]any `json:"features,omitempty"`
	Error      string         `json:"error,omitempty"`
}

// NewResult turns a fetcher response into its JSON form.
func NewResult(r fetcher.Response) Result {
	keys := r.Request.Keys
	if keys == nil {
		keys = map[string]any{}
	}
	if r.Err != nil {
		return Result{Status: "Failure", EntityKeys: keys, Error: r.Err.Error()}
	}
	// The response owns its values: convert them in place.
	for k, v := range r.Values {
		if needsConversion(v) {
			r.Values[k] = JSONValue(v)
		}
	}
	return Result{Status: "Success", EntityKeys: keys, Features: r.Values}
}

// features handles POST /v1/features/{join,groupby}/NAME: a JSON array of
// key maps, answered in order.
func (s *Server) features(k kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		name, err := pathName(c)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, s.opts.MaxBodyBytes))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", s.opts.MaxBodyBytes))
		case err != nil:
			return echo.NewHTTPError(http.StatusBadRequest, "read body: "+err.Error())
		}
		keys, err := decodeKeys(body, s.opts.MaxKeys)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		reqs := make([]fetcher.Request, len(keys))
		for i, km := range keys {
			reqs[i] = fetcher.Request{Name: name, Keys: km}
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.Timeout)
		defer cancel()
		var resps []fetcher.Response
		if k == kindJoin {
			resps = s.fetcher.FetchJoin(ctx, reqs)
		} else {
			resps = s.fetcher.FetchGroupBy(ctx, reqs)
		}
		results := make([]Result, len(resps))
		// Only names that exist label the metric: unknown ones would grow
		// the label set without bound.
		label := "unknown"
		for i, r := range resps {
			results[i] = NewResult(r)
			if !errors.Is(r.Err, fetcher.ErrNotFound) && utf8.ValidString(name) {
				label = fetcher.DefinitionName(name)
			}
		}
		s.latency.WithLabelValues(string(k), label).Observe(time.Since(start).Seconds())
		return c.JSONBlob(http.StatusOK, appendResults(make([]byte, 0, 2048), results))
	}
}

// pathName returns the definition name of a route's wildcard, unescaped.
func pathName(c echo.Context) (string, error) {
	raw := c.Param("*")
	name, err := url.PathUnescape(raw)
	if err != nil || strings.TrimSpace(name) == "" {
		return "", echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("bad name %q in the path (want team/name.v1, URL-encoded or not)", raw))
	}
	return name, nil
}

// decodeKeys parses a body: a JSON array of objects (key maps). Numbers
// stay json.Number so long keys keep every digit.
func decodeKeys(body []byte, max int) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var keys []map[string]any
	if err := dec.Decode(&keys); err != nil {
		return nil, fmt.Errorf("body must be a JSON array of key objects, e.g. [{\"user_id\": \"5\"}]: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("body must be one JSON array of key objects: extra data after it")
	}
	if len(keys) > max {
		return nil, fmt.Errorf("too many keys: %d key objects in one request, the limit is %d", len(keys), max)
	}
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("key object %d is null", i)
		}
	}
	return keys, nil
}

// joinSchema handles GET /v1/join/NAME/schema: the join's key and value
// columns with their types.
func (s *Server) joinSchema(c echo.Context) error {
	raw := c.Param("*")
	rest, ok := strings.CutSuffix(raw, "/schema")
	if !ok {
		return echo.ErrNotFound
	}
	name, err := url.PathUnescape(rest)
	if err != nil || name == "" {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("bad join name %q", rest))
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.Timeout)
	defer cancel()
	keys, vals, err := s.fetcher.Columns(ctx, name)
	if errors.Is(err, fetcher.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusInternalServerError, err.Error()).SetInternal(err)
	}
	return c.JSON(http.StatusOK, map[string]any{
		"joinName":    fetcher.DefinitionName(name),
		"keySchema":   columns(keys),
		"valueSchema": columns(vals),
	})
}

// auth requires the bearer token (when one is set) on every route but the
// liveness ones.
func (s *Server) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.opts.Token == "" {
			return next(c)
		}
		switch c.Request().URL.Path {
		case "/ping", "/healthz":
			return next(c)
		}
		got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="chronon"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "missing or wrong bearer token")
		}
		return next(c)
	}
}

// handleError writes every error response as Chronon's {"errors": [...]}.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = fmt.Sprint(he.Message)
	}
	if code >= 500 {
		s.log.Error("request failed", "path", c.Request().URL.Path, "err", err)
	}
	if err := c.JSON(code, map[string][]string{"errors": {msg}}); err != nil {
		s.log.Debug("write error response", "err", err)
	}
}
