// SPDX-License-Identifier: Apache-2.0

package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
)

var (
	// ErrUnavailable is wrapped by the errors of calls made while a
	// plugin is down (its process exited or its connection broke) or
	// restarting, and of calls the crash interrupted. Use errors.Is. The
	// host starts the plugin again on a call after the backoff.
	ErrUnavailable = errors.New("pluginhost: plugin unavailable")
	// ErrClosed is wrapped by the errors of calls made after Close. Use
	// errors.Is.
	ErrClosed = errors.New("pluginhost: plugin closed")
)

// Process is implemented by the plugin-backed values kvplugin.Open and
// extplugin.Open return, and by Host: it tells which process serves them.
type Process interface {
	// PID returns the process id of the plugin process, or 0 while the
	// plugin is down.
	PID() int
	// PluginName returns the plugin's name in logs and errors
	// (Options.Name).
	PluginName() string
}

// Timings of the check a failed call makes of a live plugin process.
const (
	// checkDelay lets the process watcher see an exit first, so the
	// plugin's down state names the exit rather than a broken pipe.
	checkDelay = 100 * time.Millisecond
	// pingTimeout bounds the health check of a process whose connection
	// failed a call.
	pingTimeout = 2 * time.Second
	// stderrTail is how much of a plugin's stderr a start error quotes.
	stderrTail = 2048
)

// Host runs one plugin process and hands out the value its kind's
// adapter dispenses (a T: kv.Store, external.Handler) while the process
// is up. When the process exits or its connection breaks, the host marks
// the plugin down: Get then fails at once with an error that wraps
// ErrUnavailable and names the plugin, until the backoff (Options) has
// passed; the next Get starts the plugin again and waits for it. The
// values of one process never outlive it: callers get the current one
// from Get for every call.
//
// It is safe to call a Host's methods from concurrent goroutines.
type Host[T any] struct {
	kind Kind
	opts *Options
	log  *slog.Logger
	env  []string

	// cur is the running instance, nil while the plugin is down. Get
	// reads it without the lock: the common path takes no mutex.
	cur atomic.Pointer[instance[T]]

	mu        sync.Mutex
	closed    bool
	launching *launch[T] // the start in progress, if any
	fails     int        // crashes and failed starts in a row
	retryAt   time.Time  // no start before then
	cause     error      // why the plugin is down
	// bg counts the goroutines that watch or stop instances; Close waits
	// for them. Add is only called with mu held and closed false.
	bg sync.WaitGroup
}

// instance is one plugin process.
type instance[T any] struct {
	host    *Host[T]
	client  *plugin.Client
	cmd     *exec.Cmd
	impl    T
	pid     int
	started time.Time
	done    <-chan struct{} // closed when the process has exited
	stop    chan struct{}   // closed when the host stops the process itself
	stderr  *tail

	checking atomic.Bool // a health check after a failed call is running
	killOnce sync.Once
}

// launch is one start of the plugin, shared by the callers that wait for
// it.
type launch[T any] struct {
	restart bool          // the plugin ran before: a failure is logged
	done    chan struct{} // closed once inst or err is set
	inst    *instance[T]
	err     error
}

// Start starts the plugin of kind that opts describe, waits until it has
// completed the handshake, and returns its host. An error (a missing
// binary, a handshake or protocol mismatch, a plugin that exits at start:
// its stderr is quoted) leaves nothing running. A done ctx ends the wait,
// once the start in progress has been undone; it does not bound the
// plugin's lifetime, which ends with Close.
func Start[T any](ctx context.Context, kind Kind, opts Options) (*Host[T], error) {
	o := opts.EnsureDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("pluginhost: %s plugin %q: %w", kind.Name, o.Name, err)
	}
	cfg, err := pluginwire.EncodeConfig(o.Config)
	if err != nil {
		return nil, fmt.Errorf("pluginhost: %s plugin %q: %w", kind.Name, o.Name, err)
	}
	h := &Host[T]{
		kind: kind,
		opts: o,
		log:  o.Logger.With("plugin", o.Name),
	}
	h.env = h.environ(cfg)
	h.mu.Lock()
	l := h.beginLocked()
	h.mu.Unlock()
	select {
	case <-l.done:
	case <-ctx.Done():
		_ = h.Close()
		return nil, fmt.Errorf("pluginhost: %s plugin %q: start: %w", kind.Name, o.Name, context.Cause(ctx))
	}
	if l.err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("pluginhost: %s plugin %q: %w", kind.Name, o.Name, l.cause())
	}
	return h, nil
}

// environ is the plugin's environment: the host's, then Options.Env, then
// the config and log level (go-plugin adds its handshake variables after
// these; for a key set twice the last value counts).
func (h *Host[T]) environ(cfg string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != pluginwire.ConfigEnv && k != pluginwire.LogLevelEnv {
			env = append(env, kv)
		}
	}
	env = append(env, h.opts.Env...)
	level := pluginwire.LevelName(slog.LevelError)
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		if h.opts.Logger.Enabled(context.Background(), l) {
			level = pluginwire.LevelName(l)
			break
		}
	}
	return append(env, pluginwire.ConfigEnv+"="+cfg, pluginwire.LogLevelEnv+"="+level)
}

// Get returns the value of the running plugin process. While the plugin
// is down it fails at once with an error wrapping ErrUnavailable that
// names the plugin and why it is down; once the backoff has passed, the
// first Get starts the plugin again and waits for it (bounded by ctx and
// Options.StartTimeout) while other calls keep failing at once. After
// Close it fails with an error wrapping ErrClosed.
func (h *Host[T]) Get(ctx context.Context) (T, error) {
	if inst := h.cur.Load(); inst != nil {
		return inst.impl, nil
	}
	var zero T
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return zero, h.closedErr()
	}
	if inst := h.cur.Load(); inst != nil {
		h.mu.Unlock()
		return inst.impl, nil
	}
	if h.launching != nil {
		err := h.unavailable(h.cause, fmt.Sprintf("restarting after: %v", h.cause))
		h.mu.Unlock()
		return zero, err
	}
	if wait := time.Until(h.retryAt); wait > 0 {
		err := h.unavailable(h.cause, fmt.Sprintf("%v; next start in %v", h.cause, wait.Round(time.Millisecond)))
		h.mu.Unlock()
		return zero, err
	}
	l := h.beginLocked()
	h.mu.Unlock()
	select {
	case <-l.done:
		if l.err != nil {
			return zero, l.err
		}
		return l.inst.impl, nil
	case <-ctx.Done():
		return zero, h.unavailable(context.Cause(ctx), fmt.Sprintf("restarting; stopped waiting: %v", context.Cause(ctx)))
	}
}

// Current returns the value of the running plugin process, if the plugin
// is up; it never starts the plugin.
func (h *Host[T]) Current() (T, bool) {
	if inst := h.cur.Load(); inst != nil {
		return inst.impl, true
	}
	var zero T
	return zero, false
}

// PID returns the plugin's process id, or 0 while it is down.
func (h *Host[T]) PID() int {
	if inst := h.cur.Load(); inst != nil {
		return inst.pid
	}
	return 0
}

// PluginName returns Options.Name.
func (h *Host[T]) PluginName() string { return h.opts.Name }

// Kind returns the kind's name ("kv", "external").
func (h *Host[T]) Kind() string { return h.kind.Name }

// Close stops the plugin process (go-plugin asks it to exit and kills it
// if it has not within 2 s) and waits for the host's goroutines. Later
// calls of Get fail; Close itself may be called again and then does
// nothing. It does not call the plugin's own Close: the kind's wrapper
// does that first.
func (h *Host[T]) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	l := h.launching
	inst := h.cur.Swap(nil)
	h.mu.Unlock()
	if l != nil {
		<-l.done // the launch stops what it started once it sees closed
	}
	if inst != nil {
		inst.kill()
		h.log.Info("plugin stopped", "pid", inst.pid)
	}
	h.bg.Wait()
	return nil
}

// beginLocked starts a launch in the background; h.mu must be held. The
// launch is not tied to the context of the call that triggered it: a
// caller that gives up does not waste a start others will use.
func (h *Host[T]) beginLocked() *launch[T] {
	l := &launch[T]{restart: !h.retryAt.IsZero(), done: make(chan struct{})}
	h.launching = l
	go h.run(l)
	return l
}

// run starts a process and records the outcome.
func (h *Host[T]) run(l *launch[T]) {
	inst, err := h.start()
	h.mu.Lock()
	var orphan *instance[T]
	switch {
	case h.closed:
		orphan = inst
		l.err = h.closedErr()
	case err != nil:
		h.fails++
		wait := h.opts.backoff(h.fails)
		h.retryAt = time.Now().Add(wait)
		h.cause = err
		l.err = h.unavailable(err, err.Error())
		if l.restart {
			// A first start's error goes to Start's caller instead.
			h.log.Error("plugin failed to restart", "error", err, "retry_in", wait)
		}
	default:
		h.cause = nil
		h.cur.Store(inst)
		l.inst = inst
		h.bg.Add(1)
		go h.watch(inst)
		h.log.Info("plugin started", "pid", inst.pid, "restart", l.restart)
	}
	h.launching = nil
	h.mu.Unlock()
	if orphan != nil {
		orphan.kill()
	}
	close(l.done)
}

// cause returns the start error inside l.err, for Start's own message.
func (l *launch[T]) cause() error {
	var he *hostError
	if errors.As(l.err, &he) && he.cause != nil {
		return he.cause
	}
	return l.err
}

// start launches a plugin process and dispenses its value.
func (h *Host[T]) start() (*instance[T], error) {
	cmd := exec.Command(h.opts.Path, h.opts.Args...)
	cmd.Env = slices.Clone(h.env)
	inst := &instance[T]{
		host:   h,
		cmd:    cmd,
		stop:   make(chan struct{}),
		stderr: &tail{max: stderrTail},
	}
	w := &watchedPlugin{GRPCPlugin: h.kind.Plugin}
	inst.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  h.kind.Handshake,
		Plugins:          plugin.PluginSet{h.kind.Name: w},
		Cmd:              cmd,
		SkipHostEnv:      true, // h.env has the host's environment, minus what we set
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     h.opts.StartTimeout,
		Logger:           newHCLogger(h.log),
		Stderr:           inst.stderr,
		SyncStdout:       &lineLogger{log: h.log, stream: "stdout"},
		SyncStderr:       &lineLogger{log: h.log, stream: "stderr"},
		GRPCDialOptions:  []grpc.DialOption{grpc.WithChainUnaryInterceptor(inst.intercept)},
	})
	rpc, err := inst.client.Client()
	if err != nil {
		inst.client.Kill() // waits for the process, so ProcessState is set
		return nil, startError(err, h.kind, cmd.ProcessState, inst.stderr.String())
	}
	raw, err := rpc.Dispense(h.kind.Name)
	if err != nil {
		inst.client.Kill()
		return nil, fmt.Errorf("start: dispense %s: %w", h.kind.Name, err)
	}
	impl, ok := raw.(T)
	if !ok {
		inst.client.Kill()
		return nil, fmt.Errorf("start: the %s adapter dispensed a %T, not a %v", h.kind.Name, raw, reflect.TypeFor[T]())
	}
	inst.impl = impl
	inst.done = w.done
	inst.pid = cmd.Process.Pid
	inst.started = time.Now()
	return inst, nil
}

// startError describes a failed start. A plugin that exited by itself
// before the handshake usually said why on stderr (a bad config, the wrong
// kind): that and its exit status lead, rather than go-plugin's generic
// guesses about architectures and permissions.
func startError(err error, kind Kind, ps *os.ProcessState, stderr string) error {
	if ps != nil && ps.Exited() {
		if stderr == "" {
			stderr = "nothing"
		}
		return &hostError{
			msg:      fmt.Sprintf("start: the plugin exited before the handshake (%s); its stderr said: %s", ps, stderr),
			sentinel: err,
		}
	}
	// Say which protocol this host speaks: a version mismatch is the
	// usual failure of a plugin that did start.
	if stderr != "" {
		return fmt.Errorf("start (%s plugin protocol %d): %w (plugin stderr: %s)", kind.Name, kind.Handshake.ProtocolVersion, err, stderr)
	}
	return fmt.Errorf("start (%s plugin protocol %d): %w", kind.Name, kind.Handshake.ProtocolVersion, err)
}

// watch marks the plugin down when inst's process exits by itself.
func (h *Host[T]) watch(inst *instance[T]) {
	defer h.bg.Done()
	select {
	case <-inst.done:
		state := "exited"
		if ps := inst.cmd.ProcessState; ps != nil {
			state = ps.String() // "signal: killed", "exit status 2"
		}
		h.down(inst, fmt.Errorf("process %d exited (%s)", inst.pid, state))
	case <-inst.stop:
	}
}

// down marks the plugin down because inst failed, unless inst is no
// longer the running instance, and stops inst in the background.
func (h *Host[T]) down(inst *instance[T], cause error) {
	h.mu.Lock()
	if h.closed || !h.cur.CompareAndSwap(inst, nil) {
		h.mu.Unlock()
		return
	}
	if time.Since(inst.started) >= h.opts.StableAfter {
		h.fails = 0
	}
	h.fails++
	wait := h.opts.backoff(h.fails)
	h.retryAt = time.Now().Add(wait)
	h.cause = cause
	fails := h.fails
	h.bg.Add(1)
	h.mu.Unlock()
	h.log.Warn("plugin crashed; the next call after the backoff restarts it",
		"pid", inst.pid, "cause", cause, "backoff", wait, "crashes_in_a_row", fails)
	go func() {
		defer h.bg.Done()
		inst.kill() // a dead process: releases go-plugin's goroutines at once
	}()
}

// suspect checks inst after one of its calls failed with codes.Unavailable:
// the process may have died (the watcher reports that) or, still running,
// lost its connection, which a failed health check reveals.
func (h *Host[T]) suspect(inst *instance[T]) {
	if h.cur.Load() != inst || !inst.checking.CompareAndSwap(false, true) {
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		inst.checking.Store(false)
		return
	}
	h.bg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.bg.Done()
		defer inst.checking.Store(false)
		select {
		case <-inst.done:
			return
		case <-inst.stop:
			return
		case <-time.After(checkDelay):
		}
		if err := inst.ping(); err != nil {
			h.down(inst, fmt.Errorf("connection to process %d broken: %w", inst.pid, err))
		}
	}()
}

// intercept is the client interceptor of inst's connection. A call that
// fails because the plugin is gone returns an error that wraps
// ErrUnavailable and names the plugin: one that fails with
// codes.Unavailable (the process died, the connection broke), which also
// makes the host check the process, and any failure of a call on an
// instance that has died or been stopped meanwhile (gRPC reports a call
// cut by the closing connection as codes.Canceled, though the caller
// cancelled nothing).
func (inst *instance[T]) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if err == nil {
		return nil
	}
	h := inst.host
	switch {
	case status.Code(err) == codes.Unavailable:
		h.suspect(inst)
	case ctx.Err() != nil || !inst.gone():
		return err
	}
	return h.unavailable(err, err.Error())
}

// gone reports whether inst's process has exited or the host has stopped
// it.
func (inst *instance[T]) gone() bool {
	select {
	case <-inst.stop:
		return true
	default:
		return inst.client.Exited()
	}
}

// ping runs go-plugin's health check of inst, bounded by pingTimeout.
func (inst *instance[T]) ping() error {
	rpc, err := inst.client.Client()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- rpc.Ping() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(pingTimeout):
		return fmt.Errorf("no answer to a health check within %v", pingTimeout)
	}
}

// kill stops inst's process: go-plugin's Kill closes the connection,
// asks the plugin to exit, and kills it after 2 s.
func (inst *instance[T]) kill() {
	inst.killOnce.Do(func() {
		close(inst.stop)
		inst.client.Kill()
	})
}

// watchedPlugin wraps a kind's adapter to keep the context go-plugin
// passes to GRPCClient: it is done when the plugin process has exited,
// which is how the host learns of a crash without polling.
type watchedPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	plugin.GRPCPlugin

	done <-chan struct{}
}

// GRPCClient implements plugin.GRPCPlugin.
func (w *watchedPlugin) GRPCClient(ctx context.Context, b *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	w.done = ctx.Done()
	return w.GRPCPlugin.GRPCClient(ctx, b, cc)
}

// hostError is an error of the host that names the plugin and wraps a
// sentinel (ErrUnavailable, ErrClosed) and, if any, its cause.
type hostError struct {
	msg      string
	sentinel error
	cause    error
}

func (e *hostError) Error() string { return e.msg }

func (e *hostError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

// unavailable returns an ErrUnavailable error naming the plugin.
func (h *Host[T]) unavailable(cause error, detail string) error {
	return &hostError{
		msg:      fmt.Sprintf("pluginhost: %s plugin %q is unavailable: %s", h.kind.Name, h.opts.Name, detail),
		sentinel: ErrUnavailable,
		cause:    cause,
	}
}

// closedErr returns an ErrClosed error naming the plugin.
func (h *Host[T]) closedErr() error {
	return &hostError{
		msg:      fmt.Sprintf("pluginhost: %s plugin %q is closed", h.kind.Name, h.opts.Name),
		sentinel: ErrClosed,
	}
}

// Shutdown closes the plugin's implementation with closeImpl, if the
// plugin is up (a plugin that is down is not started again to be closed),
// then stops the process, as the Close of a kind's Go interface does.
func (h *Host[T]) Shutdown(closeImpl func(T) error) error {
	var errs []error
	if c, ok := h.Current(); ok {
		if err := closeImpl(c); err != nil && !errors.Is(err, ErrUnavailable) {
			errs = append(errs, h.Wrap("Close", err))
		}
	}
	errs = append(errs, h.Close())
	return errors.Join(errs...)
}

// Wrap adds to a call's error the operation and, unless the host's error
// already says it, the plugin's name.
func (h *Host[T]) Wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrClosed):
		return fmt.Errorf("%splugin: %s: %w", h.kind.Name, op, err)
	}
	return fmt.Errorf("%splugin: %s: plugin %q: %w", h.kind.Name, op, h.PluginName(), err)
}
