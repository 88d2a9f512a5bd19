// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	bt "cloud.google.com/go/bigtable"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/chronon-go/chronon/plugins/kv"
)

// errClosed is returned (wrapped) by the methods of a closed Store.
var errClosed = errors.New("store is closed")

// Store is the Bigtable kv.Store: every dataset in one table (see the
// package documentation for the layout). It is safe for concurrent use by
// several goroutines and several processes.
type Store struct {
	opts   Options // with defaults
	client *bt.Client
	table  *bt.Table
	// admin is nil with Options.SkipCreate.
	admin *bt.AdminClient
	// conns are the emulator connections Open dialled.
	conns []*grpc.ClientConn

	// known holds the datasets seen to exist. Datasets are never dropped,
	// so an entry stays true; a dataset not in it is looked up again.
	mu     sync.RWMutex
	known  map[string]bool
	closed atomic.Bool
}

var _ kv.Store = (*Store)(nil)

// Open connects to Bigtable (or the emulator of Options.Emulator or
// $BIGTABLE_EMULATOR_HOST) and, unless Options.SkipCreate, creates the table
// and the column families that are missing. The Store must be closed.
func Open(ctx context.Context, opts Options) (*Store, error) {
	o := (&opts).EnsureDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("kv/bigtable: open: %w", err)
	}
	s := &Store{opts: *o, known: map[string]bool{}}
	if err := s.connect(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("kv/bigtable: open table %q of %s/%s: %w", o.Table, o.Project, o.Instance, err)
	}
	return s, nil
}

// connect creates the clients and, unless SkipCreate, the table.
func (s *Store) connect(ctx context.Context) error {
	o := &s.opts
	cfg := bt.ClientConfig{AppProfile: o.AppProfile}
	clientOpts := func() ([]option.ClientOption, error) {
		co := append([]option.ClientOption(nil), o.ClientOptions...)
		if o.Emulator == "" {
			return co, nil
		}
		conn, err := dialEmulator(o.Emulator)
		if err != nil {
			return nil, err
		}
		s.conns = append(s.conns, conn)
		return append(co, option.WithGRPCConn(conn)), nil
	}
	if o.Emulator != "" {
		// No Cloud Monitoring exporter for an emulator.
		cfg.MetricsProvider = bt.NoopMetricsProvider{}
	}
	co, err := clientOpts()
	if err != nil {
		return err
	}
	s.client, err = bt.NewClientWithConfig(ctx, o.Project, o.Instance, cfg, co...)
	if err != nil {
		return fmt.Errorf("data client: %w", err)
	}
	s.table = s.client.Open(o.Table)
	if o.SkipCreate {
		return nil
	}
	if co, err = clientOpts(); err != nil {
		return err
	}
	s.admin, err = bt.NewAdminClient(ctx, o.Project, o.Instance, co...)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	return s.ensureTable(ctx)
}

// dialEmulator opens a plaintext connection to an emulator at addr
// (host:port, an http:// prefix tolerated).
func dialEmulator(addr string) (*grpc.ClientConn, error) {
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		addr = rest
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("emulator %q: %w", addr, err)
	}
	return conn, nil
}

// ensureTable creates the table and its missing column families. Processes
// that open the store at once may race: AlreadyExists is success.
func (s *Store) ensureTable(ctx context.Context) error {
	// The column families and their garbage collection: none for values
	// (Expire is the retention), one version for dataset rows.
	families := []struct {
		name string
		gc   bt.GCPolicy
	}{
		{familyValue, bt.NoGcPolicy()},
		{familyDataset, bt.MaxVersionsPolicy(1)},
	}
	table := s.opts.Table
	info, err := s.admin.TableInfo(ctx, table)
	if status.Code(err) == codes.NotFound {
		conf := &bt.TableConf{TableID: table, Families: map[string]bt.GCPolicy{}}
		for _, f := range families {
			conf.Families[f.name] = f.gc
		}
		err = s.admin.CreateTableFromConf(ctx, conf)
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("create table: %w", err)
		}
		info, err = s.admin.TableInfo(ctx, table)
	}
	if err != nil {
		return fmt.Errorf("table info: %w", err)
	}
	have := map[string]bool{}
	for _, f := range info.FamilyInfos {
		have[f.Name] = true
	}
	for _, f := range families {
		if have[f.name] {
			continue
		}
		err := s.admin.CreateColumnFamilyWithConfig(ctx, table, f.name, bt.Family{GCPolicy: f.gc})
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("create column family %q: %w", f.name, err)
		}
	}
	return nil
}

// Close closes the clients. Later calls of the Store's methods fail; Close
// itself may be called again and then does nothing.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if s.client != nil {
		errs = append(errs, s.client.Close())
	}
	if s.admin != nil {
		errs = append(errs, s.admin.Close())
	}
	for _, c := range s.conns {
		// The clients may have closed it already.
		if err := c.Close(); err != nil && status.Code(err) != codes.Canceled {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kv/bigtable: close: %w", err)
	}
	return nil
}

// wrap prefixes err with the operation and the dataset.
func wrap(op, dataset string, err error) error {
	return fmt.Errorf("kv/bigtable: %s dataset %q: %w", op, dataset, err)
}

// CreateDataset records the dataset in its dataset row; creating an
// existing dataset writes the same cell again, which changes nothing. The
// name must not be empty.
func (s *Store) CreateDataset(ctx context.Context, dataset string) error {
	const op = "create"
	if s.closed.Load() {
		return wrap(op, dataset, errClosed)
	}
	if dataset == "" {
		return wrap(op, dataset, errEmptyDataset)
	}
	if s.isKnown(dataset) {
		return nil
	}
	m := bt.NewMutation()
	m.Set(familyDataset, columnDataset, 0, []byte(dataset))
	if err := s.table.Apply(ctx, datasetRowKey(escapeDataset(dataset)), m); err != nil {
		return wrap(op, dataset, err)
	}
	s.setKnown(dataset)
	return nil
}

func (s *Store) isKnown(dataset string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.known[dataset]
}

func (s *Store) setKnown(dataset string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known[dataset] = true
}

// checkDatasets looks up the datasets not known to exist, with one ReadRows
// of their dataset rows, and returns the error of each dataset that cannot
// be used: a wrapped kv.ErrNoDataset, or the lookup's failure. A dataset
// absent from the map exists.
func (s *Store) checkDatasets(ctx context.Context, op string, datasets []string) map[string]error {
	bad := map[string]error{}
	var rows bt.RowList
	byRow := map[string]string{}
	for _, ds := range datasets {
		switch {
		case ds == "":
			bad[ds] = wrap(op, ds, kv.ErrNoDataset)
		case !s.isKnown(ds):
			rk := datasetRowKey(escapeDataset(ds))
			if _, dup := byRow[rk]; !dup {
				rows = append(rows, rk)
				byRow[rk] = ds
			}
		}
	}
	if len(rows) == 0 {
		return bad
	}
	filter := bt.ChainFilters(bt.FamilyFilter(familyDataset), bt.LatestNFilter(1), bt.StripValueFilter())
	err := s.table.ReadRows(ctx, rows, func(r bt.Row) bool {
		if ds, ok := byRow[r.Key()]; ok {
			s.setKnown(ds)
			delete(byRow, r.Key())
		}
		return true
	}, bt.RowFilter(filter))
	for _, ds := range byRow {
		if err != nil {
			bad[ds] = wrap(op, ds, fmt.Errorf("look up dataset: %w", err))
		} else {
			bad[ds] = wrap(op, ds, kv.ErrNoDataset)
		}
	}
	return bad
}

// checkDataset is checkDatasets for one dataset.
func (s *Store) checkDataset(ctx context.Context, op, dataset string) error {
	if s.closed.Load() {
		return wrap(op, dataset, errClosed)
	}
	if s.isKnown(dataset) {
		return nil
	}
	return s.checkDatasets(ctx, op, []string{dataset})[dataset]
}
