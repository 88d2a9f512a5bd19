// SPDX-License-Identifier: Apache-2.0

package pubsubdev

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/chronon-go/chronon/core/config"
)

// EmulatorEnv is the environment variable Google's clients read for the
// address of a Pub/Sub emulator.
const EmulatorEnv = "PUBSUB_EMULATOR_HOST"

// laptopProject is core/config's default pubsub.project.
const laptopProject = "local"

// emulatorDialTimeout bounds the check that an emulator is listening.
const emulatorDialTimeout = 2 * time.Second

// EmulatorAddr is the emulator Connect uses for cfg: cfg.Emulator, else
// $PUBSUB_EMULATOR_HOST, else "" for real Pub/Sub. chronon.yaml wins over
// the environment, as core/config documents.
func EmulatorAddr(cfg config.PubSub) string {
	if cfg.Emulator != "" {
		return cfg.Emulator
	}
	return os.Getenv(EmulatorEnv)
}

// Connect opens a Pub/Sub client for chronon.yaml's pubsub section: project
// cfg.Project, through the emulator of EmulatorAddr(cfg) when there is one
// (plaintext, no credentials; Connect fails fast when nothing listens
// there), else real Pub/Sub with Application Default Credentials. The
// default project "local" requires an emulator. The caller closes the
// client.
func Connect(ctx context.Context, cfg config.PubSub) (*pubsub.Client, error) {
	if cfg.Project == "" {
		return nil, errors.New("pubsub: no project (set pubsub.project in chronon.yaml)")
	}
	addr := EmulatorAddr(cfg)
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		addr = rest
	}
	if addr == "" && cfg.Project == laptopProject {
		// The default project of the laptop setup is not a Google Cloud
		// project (those have 6 to 30 characters): without an emulator the
		// client would fail later on missing credentials, less clearly.
		return nil, fmt.Errorf("pubsub: project %q needs an emulator: run chronon dev pubsub and export %s, or set pubsub.emulator (or a real pubsub.project) in chronon.yaml", cfg.Project, EmulatorEnv)
	}
	if addr != "" {
		// Without this check a stopped emulator shows as a call that
		// retries until its deadline.
		d := net.Dialer{Timeout: emulatorDialTimeout}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("pubsub: no emulator at %s (start one with chronon dev pubsub): %w", addr, err)
		}
		conn.Close()
	}
	var opts []option.ClientOption
	if addr != "" {
		// The client library applies $PUBSUB_EMULATOR_HOST itself; these
		// options, given later, override it with chronon.yaml's address
		// (and the same address without a scheme, which it would not drop).
		opts = append(opts,
			option.WithEndpoint(addr),
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
			option.WithTelemetryDisabled(),
		)
	}
	c, err := pubsub.NewClient(ctx, cfg.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub client for project %s: %w", cfg.Project, err)
	}
	return c, nil
}

// TopicName is the full resource name of topic id in c's project.
func TopicName(c *pubsub.Client, id string) string {
	return "projects/" + c.Project() + "/topics/" + id
}

// EnsureTopic creates topic id in c's project unless it exists. It asks
// first, so that a caller allowed to publish but not to create topics can
// use a topic someone else created; a concurrent creation is success.
func EnsureTopic(ctx context.Context, c *pubsub.Client, id string) error {
	name := TopicName(c, id)
	_, err := c.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: name})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// gRPC reports a canceled call as its own error; callers test for
		// the context's.
		return fmt.Errorf("get topic %s: %w", name, context.Cause(ctx))
	}
	if status.Code(err) != codes.NotFound {
		return fmt.Errorf("get topic %s: %w", name, err)
	}
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: name}); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	return nil
}
