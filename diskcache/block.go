package diskcache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A block file is a 64-byte header followed by the block's bytes:
//
//	0  magic "OMDC"
//	4  version (uint16), 2 bytes zero
//	8  SHA-256 of bucket, key and ETag (the object version)
//	40 block index (uint64)
//	48 block size the cache was configured with (uint32)
//	52 length of the data (uint32; below the block size only for the last block)
//	56 CRC-32C of the data
//	60 CRC-32C of bytes 0..59
//
// Integers are little endian. A file is trusted only when every field
// matches what the reader asked for and both checksums hold.
const (
	headerSize    = 64
	formatVersion = 1
	magic         = "OMDC"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBadBlock says a block file is not what its name promises: truncated,
// corrupted, or from another version of the format.
var errBadBlock = errors.New("diskcache: bad block file")

// objectID names one version of one object: a hash, so that keys of any
// length and content make fixed, safe file names.
type objectID [sha256.Size]byte

func newObjectID(bucket, key, etag string) objectID {
	h := sha256.New()
	for _, s := range []string{bucket, key, etag} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:]) // length-prefixed: ("ab","c") and ("a","bc") differ
		h.Write([]byte(s))
	}
	var id objectID
	h.Sum(id[:0])
	return id
}

// blockID names one block of one object version.
type blockID struct {
	obj   objectID
	index int64
}

// relPath is the block's file name under the blocks directory: 256
// fan-out directories keep each directory small.
func (id blockID) relPath() string {
	name := hex.EncodeToString(id.obj[:])
	return filepath.Join(name[:2], name+"."+strconv.FormatInt(id.index, 10))
}

// parseRelName reads a block ID back from a file name; ok is false for
// any name relPath does not make.
func parseRelName(name string) (blockID, bool) {
	var id blockID
	hexPart, indexPart, found := strings.Cut(name, ".")
	if !found || len(hexPart) != 2*len(id.obj) {
		return id, false
	}
	if _, err := hex.Decode(id.obj[:], []byte(hexPart)); err != nil {
		return id, false
	}
	index, err := strconv.ParseInt(indexPart, 10, 64)
	if err != nil || index < 0 || strconv.FormatInt(index, 10) != indexPart {
		return id, false
	}
	id.index = index
	return id, true
}

// encodeHeader makes the header of a block holding data.
func encodeHeader(id blockID, blockSize int64, data []byte) []byte {
	h := make([]byte, headerSize)
	copy(h[0:4], magic)
	binary.LittleEndian.PutUint16(h[4:6], formatVersion)
	copy(h[8:40], id.obj[:])
	binary.LittleEndian.PutUint64(h[40:48], uint64(id.index))
	binary.LittleEndian.PutUint32(h[48:52], uint32(blockSize))
	binary.LittleEndian.PutUint32(h[52:56], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[56:60], crc32.Checksum(data, castagnoli))
	binary.LittleEndian.PutUint32(h[60:64], crc32.Checksum(h[:60], castagnoli))
	return h
}

// header is a decoded, self-consistent header.
type header struct {
	id        blockID
	blockSize int64
	length    int64
	dataCRC   uint32
}

func decodeHeader(h []byte) (header, error) {
	var hd header
	if len(h) < headerSize || string(h[0:4]) != magic ||
		binary.LittleEndian.Uint16(h[4:6]) != formatVersion ||
		binary.LittleEndian.Uint32(h[60:64]) != crc32.Checksum(h[:60], castagnoli) {
		return hd, fmt.Errorf("%w: header", errBadBlock)
	}
	copy(hd.id.obj[:], h[8:40])
	hd.id.index = int64(binary.LittleEndian.Uint64(h[40:48]))
	hd.blockSize = int64(binary.LittleEndian.Uint32(h[48:52]))
	hd.length = int64(binary.LittleEndian.Uint32(h[52:56]))
	hd.dataCRC = binary.LittleEndian.Uint32(h[56:60])
	if hd.id.index < 0 || hd.length > hd.blockSize {
		return hd, fmt.Errorf("%w: header fields", errBadBlock)
	}
	return hd, nil
}

// readBlock reads and verifies the block file at path, which must hold
// block id of a cache with this block size, into buf (headerSize +
// blockSize + 1 bytes: one more to see a file longer than its header
// says). It returns the data, a slice of buf, or an error wrapping
// errBadBlock (the file must go) or the I/O error (os.ErrNotExist if it
// was evicted meanwhile).
func readBlock(path string, id blockID, blockSize int64, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	hd, err := decodeHeader(buf)
	if err != nil {
		return nil, err
	}
	if hd.id != id || hd.blockSize != blockSize {
		return nil, fmt.Errorf("%w: holds another block", errBadBlock)
	}
	data := buf[headerSize:]
	if int64(len(data)) != hd.length {
		return nil, fmt.Errorf("%w: %d data bytes, header says %d", errBadBlock, len(data), hd.length)
	}
	if crc32.Checksum(data, castagnoli) != hd.dataCRC {
		return nil, fmt.Errorf("%w: checksum", errBadBlock)
	}
	return data, nil
}

// fileCost is the disk space a block file of n data bytes is charged:
// its size rounded up to the 4 KiB allocation unit of common file
// systems, plus a directory entry, so that du stays under the limit.
func fileCost(n int64) int64 {
	const unit, dirEntry = 4096, 128
	return (headerSize+n+unit-1)/unit*unit + dirEntry
}
