// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/logsink"
	"github.com/chronon-go/chronon/fetcher/server"
	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/runners/pubsubdev"
)

// online is what serving needs open: the KV store, the external handlers
// and the fetcher over them.
type online struct {
	store    kv.Store
	handlers map[string]external.Handler
	fetcher  *fetcher.Fetcher
	// closeLogs releases the fetch-log sink (nil without one).
	closeLogs func() error
}

// openOnline opens chronon.yaml's KV store and external handlers and a
// fetcher over them; with logging, it also opens the fetch-log sink.
func (a *app) openOnline(ctx context.Context, metrics *fetcher.Metrics, batchCache int, logging bool) (*online, error) {
	store, err := a.openKV(ctx)
	if err != nil {
		return nil, err
	}
	o := &online{store: store}
	if o.handlers, err = a.openHandlers(ctx); err != nil {
		store.Close()
		return nil, err
	}
	opts := fetcher.Options{Handlers: o.handlers, Logger: a.log, Metrics: metrics, BatchCacheSize: batchCache}
	if logging {
		if opts.LogSink, o.closeLogs, err = a.openLogSink(ctx); err != nil {
			o.Close()
			return nil, err
		}
	}
	o.fetcher = fetcher.New(store, opts)
	return o, nil
}

// logFlushTimeout bounds how long a shutdown waits for buffered fetch
// logs to be written.
const logFlushTimeout = 30 * time.Second

// openLogSink opens chronon.yaml's logging.sink (nil for "none").
func (a *app) openLogSink(ctx context.Context) (fetcher.LogSink, func() error, error) {
	c := a.cfg.Logging
	switch c.Sink {
	case "warehouse":
		wh, err := a.openWarehouse()
		if err != nil {
			return nil, nil, fmt.Errorf("logging.sink warehouse: %w", err)
		}
		return logsink.NewWarehouse(wh, c.Namespace), wh.Close, nil
	case "pubsub":
		client, err := a.openPubSub(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("logging.sink pubsub: %w", err)
		}
		if err := pubsubdev.EnsureTopic(ctx, client, c.Topic); err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("logging.topic %s: %w", c.Topic, err)
		}
		sink := logsink.NewPubSub(client, c.Topic)
		return sink, func() error { return errors.Join(sink.Close(), client.Close()) }, nil
	case "none":
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("logging.sink %q is not supported (supported: warehouse, pubsub, none)", c.Sink)
}

func (o *online) Close() error {
	var errs []error
	if o.fetcher != nil {
		// Flush the fetch logs while their sink is still open.
		ctx, cancel := context.WithTimeout(context.Background(), logFlushTimeout)
		errs = append(errs, o.fetcher.Close(ctx))
		cancel()
	}
	if o.closeLogs != nil {
		errs = append(errs, o.closeLogs())
	}
	for name, h := range o.handlers {
		if err := h.Close(); err != nil {
			errs = append(errs, fmt.Errorf("external source %s: %w", name, err))
		}
	}
	if err := o.store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func newServeCmd(a *app) *cobra.Command {
	var (
		addr, certFile, keyFile, tokenFile string
		batchCache                         int
		opts                               server.Options
	)
	cmd := &cobra.Command{
		Use:   "serve [--addr :9000]",
		Short: "Serve features over HTTP (Chronon's routes) from the KV store",
		Long: `Serve answers feature requests over HTTP with Chronon's routes and JSON:

  curl -X POST 'http://localhost:9000/v1/features/join/quickstart%2Ftraining_set.v2' \
       -H 'Content-Type: application/json' -d '[{"user_id": "5"}]'

It reads definitions and batch values from chronon.yaml's KV store (upload
them with chronon upload and chronon metadata-upload), calls the external
sources named in chronon.yaml, and exposes /ping, /healthz, /config,
/v1/join/NAME/schema and Prometheus /metrics. SIGINT or SIGTERM shut it
down gracefully. With --token-file (or $CHRONON_AUTH_TOKEN) every route but
/ping and /healthz needs "Authorization: Bearer <token>".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			token := os.Getenv("CHRONON_AUTH_TOKEN")
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("--token-file: %w", err)
				}
				token = strings.TrimSpace(string(b))
			}
			if (certFile == "") != (keyFile == "") {
				return fmt.Errorf("--tls-cert and --tls-key go together")
			}
			if os.Getenv("GOGC") == "" {
				// A feature server allocates per request and keeps a small
				// live heap: the default GOGC=100 collects several times a
				// second and the collections show in tail latency. Trade
				// memory for fewer collections; $GOGC overrides.
				debug.SetGCPercent(400)
			}
			reg, metrics := server.Metrics()
			o, err := a.openOnline(ctx, metrics, batchCache, true)
			if err != nil {
				return err
			}
			defer o.Close()
			opts.Token, opts.Registry, opts.Logger = token, reg, a.log
			opts.Config = map[string]any{
				"kv":              a.cfg.KV.Store + a.cfg.KV.Plugin,
				"externalSources": len(o.handlers),
				"maxBodyBytes":    opts.MaxBodyBytes,
				"maxKeys":         opts.MaxKeys,
				"timeout":         opts.Timeout.String(),
				"tls":             certFile != "",
				"auth":            token != "",
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			a.log.Info("serving features", "addr", ln.Addr().String(), "tls", certFile != "", "auth", token != "")
			return server.New(o.fetcher, opts).Serve(ctx, ln, certFile, keyFile)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", ":9000", "address to listen on")
	f.StringVar(&certFile, "tls-cert", "", "TLS certificate file (serve HTTPS)")
	f.StringVar(&keyFile, "tls-key", "", "TLS key file")
	f.StringVar(&tokenFile, "token-file", "", "file holding the bearer token requests must carry")
	f.Int64Var(&opts.MaxBodyBytes, "max-body-bytes", 1<<20, "largest request body (413 above)")
	f.IntVar(&opts.MaxKeys, "max-keys", 1000, "most key objects in one request (400 above)")
	f.DurationVar(&opts.Timeout, "timeout", time.Second, "time limit of one request; unanswered parts become _exception features")
	f.IntVar(&batchCache, "batch-cache", 100000, "decoded batch values kept in memory (keys); negative disables the cache")
	return cmd
}

func newFetchCmd(a *app) *cobra.Command {
	var typ, name, keys, requests string
	var at int64
	var logging bool
	cmd := &cobra.Command{
		Use:   "fetch --type join|groupby --name TEAM/NAME (-k '{\"user_id\": \"5\"}' | --requests FILE)",
		Short: "Fetch features from the KV store and print them as JSON",
		Long: `Fetch prints what the server's features route answers for one key object:
the same JSON object as one element of its "results" array. Names are
accepted as team/name.v1 or team.name.v1, --type as join, groupby or
group-by. --at-millis asks for the features as of an earlier time.

--requests FILE fetches many at once: FILE holds one JSON request per line,
{"keys": {"user_id": "5"}, "atMillis": 1700000000000} (atMillis optional),
and the results are printed one per line, in order. With --log, joins with
sample_percent > 0 log what was fetched to chronon.yaml's logging sink, as
chronon serve does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			isJoin := false
			switch typ {
			case "join":
				isJoin = true
			case "groupby", "group-by", "group_by":
			default:
				return fmt.Errorf("--type %q: want join or groupby", typ)
			}
			var reqs []fetcher.Request
			switch {
			case (keys == "") == (requests == ""):
				return errors.New("give one of -k and --requests")
			case keys != "":
				km, err := decodeKeys(keys)
				if err != nil {
					return fmt.Errorf("-k %q: want a JSON object of keys, e.g. {\"user_id\": \"5\"}: %v", keys, err)
				}
				reqs = []fetcher.Request{{Name: name, Keys: km, AtMillis: at}}
			default:
				var err error
				if reqs, err = readFetchRequests(requests, name, at); err != nil {
					return err
				}
			}
			o, err := a.openOnline(cmd.Context(), nil, 0, logging)
			if err != nil {
				return err
			}
			var res []fetcher.Response
			if isJoin {
				res = o.fetcher.FetchJoin(cmd.Context(), reqs)
			} else {
				res = o.fetcher.FetchGroupBy(cmd.Context(), reqs)
			}
			// Close flushes the fetch logs.
			if err := o.Close(); err != nil {
				return err
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			enc := json.NewEncoder(out)
			if keys != "" {
				enc.SetIndent("", "  ")
			}
			for _, r := range res {
				if err := enc.Encode(server.NewResult(r)); err != nil {
					return err
				}
			}
			return out.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", "join", "join or groupby")
	f.StringVar(&name, "name", "", "join or group-by name (team/name.v1)")
	f.StringVarP(&keys, "keys", "k", "", "key object as JSON")
	f.StringVar(&requests, "requests", "", "file of JSON requests, one per line: {\"keys\": {...}, \"atMillis\": T}")
	f.Int64Var(&at, "at-millis", 0, "answer as of this time (epoch ms; default now)")
	f.BoolVar(&logging, "log", false, "log the fetches of joins with sample_percent > 0, as chronon serve does")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// decodeKeys decodes a JSON object of key values, numbers kept exact.
func decodeKeys(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var km map[string]any
	if err := dec.Decode(&km); err != nil {
		return nil, err
	}
	if km == nil {
		return nil, errors.New("null")
	}
	return km, nil
}

// readFetchRequests reads chronon fetch --requests: one JSON request per
// line (blank lines skipped); a request without atMillis gets at.
func readFetchRequests(path, name string, at int64) ([]fetcher.Request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--requests: %w", err)
	}
	defer f.Close()
	var reqs []fetcher.Request
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var r struct {
			Keys     json.RawMessage `json:"keys"`
			AtMillis *int64          `json:"atMillis"`
		}
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		km, err := decodeKeys(string(r.Keys))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: keys: want a JSON object of keys: %v", path, line, err)
		}
		req := fetcher.Request{Name: name, Keys: km, AtMillis: at}
		if r.AtMillis != nil {
			req.AtMillis = *r.AtMillis
		}
		reqs = append(reqs, req)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return reqs, nil
}
