// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/sdk"
)

// config is the plugin's config (chronon.yaml's config: map).
type config struct {
	// URL is the service's endpoint. Required.
	URL string `json:"url"`
	// Method is GET (the default) or POST.
	Method string `json:"method"`
	// Timeout bounds one call of the service, as a Go duration. The
	// default is 5s; the fetch's own deadline also applies.
	Timeout string `json:"timeout"`
	// Headers are added to every call (an API key, ...).
	Headers map[string]string `json:"headers"`
}

// maxResponse caps the service's response body.
const maxResponse = 64 << 20

// handler calls the service once per batch of requests.
type handler struct {
	cfg     config
	method  string
	client  *http.Client
	timeout time.Duration
}

var _ external.Handler = (*handler)(nil)

func newHandler(cfg config) (*handler, error) {
	if cfg.URL == "" {
		return nil, errors.New("config: url is required")
	}
	if _, err := url.Parse(cfg.URL); err != nil {
		return nil, fmt.Errorf("config: url: %w", err)
	}
	h := &handler{cfg: cfg, method: strings.ToUpper(cfg.Method), client: &http.Client{}, timeout: 5 * time.Second}
	switch h.method {
	case "":
		h.method = http.MethodGet
	case http.MethodGet, http.MethodPost:
	default:
		return nil, fmt.Errorf("config: method %q: must be GET or POST", cfg.Method)
	}
	if cfg.Timeout != "" {
		d, err := time.ParseDuration(cfg.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("config: timeout %q: must be a positive Go duration such as 500ms", cfg.Timeout)
		}
		h.timeout = d
	}
	return h, nil
}

// Fetch makes one call of the service for the whole batch. A failed call
// (unreachable, an HTTP error, an answer that does not fit) fails the
// batch; an answer of null for a request means "no values".
func (h *handler) Fetch(ctx context.Context, reqs []external.Request) ([]external.Result, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := h.request(ctx, reqs)
	if err != nil {
		return nil, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("external-http: %s %s: %w", h.method, h.cfg.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("external-http: %s %s: read the answer: %w", h.method, h.cfg.URL, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("external-http: %s %s: %s: %.200s", h.method, h.cfg.URL, resp.Status, bytes.TrimSpace(body))
	}
	answers, err := decodeAnswers(body)
	if err != nil {
		return nil, fmt.Errorf("external-http: %s %s: %w", h.method, h.cfg.URL, err)
	}
	if len(answers) != len(reqs) {
		return nil, fmt.Errorf("external-http: %s %s: %d answers for %d requests", h.method, h.cfg.URL, len(answers), len(reqs))
	}
	out := make([]external.Result, len(reqs))
	for i, a := range answers {
		switch v := a.(type) {
		case nil: // not found: no values
		case map[string]any:
			out[i].Values = v
		default:
			out[i].Err = fmt.Errorf("external-http: answer %d is a %T, want an object or null", i, a)
		}
	}
	return out, nil
}

// request builds the call of a batch: POST sends the key maps as a JSON
// array; GET sends each key name once per request, in request order
// (?user_id=5&user_id=7), which suits scalar keys that every request has
// (an external source's keys are fixed).
func (h *handler) request(ctx context.Context, reqs []external.Request) (*http.Request, error) {
	var (
		req *http.Request
		err error
	)
	if h.method == http.MethodPost {
		keys := make([]map[string]any, len(reqs))
		for i, r := range reqs {
			keys[i] = r.Keys
		}
		body, jerr := json.Marshal(keys)
		if jerr != nil {
			return nil, fmt.Errorf("external-http: encode the keys: %w", jerr)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		u, perr := url.Parse(h.cfg.URL)
		if perr != nil {
			return nil, fmt.Errorf("external-http: url: %w", perr)
		}
		q := u.Query()
		for _, r := range reqs {
			// Encode sorts the names and keeps each name's values in
			// request order.
			for k, v := range r.Keys {
				s, serr := queryValue(v)
				if serr != nil {
					return nil, fmt.Errorf("external-http: key %s: %w", k, serr)
				}
				q.Add(k, s)
			}
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("external-http: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range h.cfg.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// queryValue renders a scalar key for a query string.
func queryValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("a %T cannot go in a query string: use method POST", v)
}

// decodeAnswers reads the service's JSON array. Numbers become int64 when
// the literal is an integer and float64 otherwise, so a service's 3 and
// 3.0 reach the join as the types it meant.
func decodeAnswers(body []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var answers []any
	if err := dec.Decode(&answers); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON array: %w", err)
	}
	for i, a := range answers {
		answers[i] = numbers(a)
	}
	return answers, nil
}

// numbers replaces json.Numbers in v by int64 or float64.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			if i, err := x.Int64(); err == nil {
				return i
			}
		}
		f, _ := x.Float64() // a literal encoding/json accepted parses
		return f
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	}
	return v
}

func (h *handler) Close() error {
	h.client.CloseIdleConnections()
	return nil
}

func main() {
	if err := run(); err != nil {
		// chronon quotes a plugin's stderr in the error of its start.
		fmt.Fprintln(os.Stderr, "external-http:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg config
	if err := sdk.DecodeConfig(&cfg); err != nil {
		return err
	}
	h, err := newHandler(cfg)
	if err != nil {
		return err
	}
	sdk.Logger().Info("serving", "url", cfg.URL, "method", h.method, "timeout", h.timeout.String())
	sdk.ServeExternal(h)
	return nil
}
