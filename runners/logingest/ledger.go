// SPDX-License-Identifier: Apache-2.0

package logingest

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// ledgerPrefix prefixes the log table property that holds the ids of the
// messages of a topic written lately (the package doc's ledger).
const ledgerPrefix = "log_ingest_ids_"

// LedgerProperty is the log table property in which ingestion from topic
// records the messages it wrote.
func LedgerProperty(topic string) string { return ledgerPrefix + topic }

// ledger is the set of the message ids written lately, as 64-bit FNV-1a
// hashes in the order written. Its property value is the standard base64
// of the hashes, 8 bytes each, big-endian.
type ledger struct {
	ids []uint64
	set map[uint64]bool
}

// parseLedger decodes a property value ("" is an empty ledger).
func parseLedger(s string) (*ledger, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil && len(b)%8 != 0 {
		err = fmt.Errorf("%d bytes, not a multiple of 8", len(b))
	}
	if err != nil {
		return &ledger{set: map[uint64]bool{}}, err
	}
	l := &ledger{ids: make([]uint64, len(b)/8), set: make(map[uint64]bool, len(b)/8)}
	for i := range l.ids {
		l.ids[i] = binary.BigEndian.Uint64(b[8*i:])
		l.set[l.ids[i]] = true
	}
	return l, nil
}

func hashID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// has reports whether message id was written.
func (l *ledger) has(id string) bool { return l.set[hashID(id)] }

// with returns the property value of the ledger plus ids, keeping the
// last window.
func (l *ledger) with(ids []string, window int) string {
	all := make([]uint64, 0, len(l.ids)+len(ids))
	all = append(all, l.ids...)
	for _, id := range ids {
		all = append(all, hashID(id))
	}
	if len(all) > window {
		all = all[len(all)-window:]
	}
	b := make([]byte, 0, 8*len(all))
	for _, h := range all {
		b = binary.BigEndian.AppendUint64(b, h)
	}
	return base64.StdEncoding.EncodeToString(b)
}
