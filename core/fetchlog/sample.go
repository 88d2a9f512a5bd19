// SPDX-License-Identifier: Apache-2.0

package fetchlog

import (
	"crypto/md5"
	"encoding/binary"
)

// MD5Long is Chronon's HashUtils.md5Long: the first 8 bytes of b's MD5 as a
// big-endian signed integer.
func MD5Long(b []byte) int64 {
	sum := md5.Sum(b)
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// KeyHash is |MD5Long(keyBytes)| as Java's Math.abs computes it: the
// absolute value of math.MinInt64 is itself (negative), which Sampled
// never logs.
func KeyHash(keyBytes []byte) int64 {
	h := MD5Long(keyBytes)
	if h < 0 {
		h = -h // math.MinInt64 stays negative, as in Java
	}
	return h
}

// Sampled reports whether a request with these encoded keys is logged at
// samplePercent (0..100): Chronon's hash > 0 && hash % 100000 <=
// samplePercent * 1000. It is false when samplePercent <= 0.
func Sampled(keyBytes []byte, samplePercent float64) bool {
	if samplePercent <= 0 {
		return false
	}
	h := KeyHash(keyBytes)
	return h > 0 && float64(h%100000) <= samplePercent*1000
}
