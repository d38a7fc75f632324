package awsemu

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync/atomic"
)

// idGenerator makes AWS-shaped identifiers from a sequence, so that runs are
// reproducible while identifiers stay unique and look like the real thing.
type idGenerator struct {
	seq atomic.Uint64
}

func (g *idGenerator) digest(kind string) [32]byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], g.seq.Add(1))
	return sha256.Sum256(append([]byte(kind), buf[:]...))
}

// requestID returns a request ID shaped like a version 4 UUID.
func (g *idGenerator) requestID() string {
	d := g.digest("request")
	d[6] = d[6]&0x0f | 0x40
	d[8] = d[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", d[0:4], d[4:6], d[6:8], d[8:10], d[10:16])
}

// uniqueID returns an IAM unique ID: a four-letter type prefix such as AROA
// (role) or ANPA (managed policy) and 17 base32 characters.
func (g *idGenerator) uniqueID(prefix string) string {
	d := g.digest(prefix)
	return prefix + base32.StdEncoding.EncodeToString(d[:])[:17]
}

// secret returns n characters usable as a secret key or session token.
func (g *idGenerator) secret(kind string, n int) string {
	var out []byte
	for len(out) < n {
		d := g.digest(kind)
		out = append(out, base64.RawStdEncoding.EncodeToString(d[:])...)
	}
	return string(out[:n])
}
