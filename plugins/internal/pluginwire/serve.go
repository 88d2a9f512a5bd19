// SPDX-License-Identifier: Apache-2.0

package pluginwire

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// MaxMessageBytes is the largest gRPC message either end accepts, the
// most gRPC allows: a bulk load chunk or a large MultiGet answer must not
// fail on gRPC's 4 MiB default. go-plugin's client already dials with it.
const MaxMessageBytes = math.MaxInt32

// parentPoll is how often a plugin checks that its host is still alive.
const parentPoll = time.Second

// Handshake returns the handshake of a plugin kind: the kind's protocol
// version and MagicCookieKey set to the kind's name.
func Handshake(kind string, version uint) plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  version,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: kind,
	}
}

// CheckStarted reports, as an error meant for a person, whether this
// process was not started by a chronon host as a plugin of the handshake's
// kind: go-plugin's own message ("This binary is a plugin") says neither
// which kind the binary serves nor which one the host wanted.
func CheckStarted(hs plugin.HandshakeConfig) error {
	got, ok := os.LookupEnv(hs.MagicCookieKey)
	switch {
	case !ok || got == "":
		return fmt.Errorf("this program is a chronon %s plugin: chronon starts it (name it in chronon.yaml), it is not meant to be run by hand", hs.MagicCookieValue)
	case got != hs.MagicCookieValue:
		return fmt.Errorf("this program is a chronon %s plugin, but chronon started it as a %s plugin: check which plugin chronon.yaml names there", hs.MagicCookieValue, got)
	}
	return nil
}

// Serve serves p as the only plugin of the handshake's kind over gRPC and
// returns when the host is done with it. It exits the process with status
// 1 when the host did not start it as that kind (CheckStarted), and with
// status 2 when the host process dies without stopping it, so an orphaned
// plugin never outlives its host by more than a second or so.
func Serve(hs plugin.HandshakeConfig, p plugin.Plugin) {
	if err := CheckStarted(hs); err != nil {
		fmt.Fprintln(os.Stderr, "chronon plugin:", err)
		os.Exit(1)
	}
	logger := NewHCLogger(os.Stderr)
	go watchParent(logger)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         plugin.PluginSet{hs.MagicCookieValue: p},
		GRPCServer:      NewGRPCServer,
		Logger:          logger,
	})
}

// watchParent exits the process once its parent has gone: the host
// normally ends a plugin itself, but a host killed with SIGKILL cannot.
func watchParent(logger hclog.Logger) {
	parent := os.Getppid()
	for range time.Tick(parentPoll) {
		if os.Getppid() != parent {
			logger.Error("chronon host exited; stopping the plugin", "host_pid", parent)
			os.Exit(2)
		}
	}
}

// NewGRPCServer is the plugin's gRPC server factory for
// plugin.ServeConfig.GRPCServer: go-plugin's default, with message limits
// of MaxMessageBytes.
func NewGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes))
	return grpc.NewServer(opts...)
}

// NewHCLogger returns go-plugin's plugin-side logger: JSON lines on w (the
// process's stderr), which the host parses and logs again through its
// slog.Logger, at LogLevel.
func NewHCLogger(w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Output:     w,
		JSONFormat: true,
		Level:      hclog.LevelFromString(LevelName(LogLevel())),
	})
}

// hclogTime is the @timestamp layout go-plugin's host parses.
const hclogTime = "2006-01-02T15:04:05.000000Z07:00"

// NewSlogLogger returns a slog.Logger for plugin code that writes w (the
// process's stderr) in hclog's JSON form, so the host logs each record
// again at its level with its attributes. Its level is LogLevel.
func NewSlogLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: LogLevel(),
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(hclogTime))
			case slog.LevelKey:
				return slog.String("@level", LevelName(a.Value.Any().(slog.Level)))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}
