package oss

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ossmount/ossmount/creds"
)

// maxListKeys is OSS's page-size limit and this client's default page size.
const maxListKeys = 1000

// maxListBody bounds a listing body: 1000 entries of 1 KiB keys, URL-encoded
// up to three times their size, plus the other elements, fit easily.
const maxListBody = 16 << 20

// List fetches one ListObjectsV2 page. It always sends encoding-type=url and
// returns keys, prefixes and the continuation token decoded. MaxKeys 0 (or
// above 1000) means 1000. Truncated or malformed bodies are retried.
func (c *Client) List(ctx context.Context, in ListInput) (ListPage, error) {
	cl := &call{op: "list", method: "GET", query: listQuery(in)}
	var page ListPage
	err := c.retry(ctx, cl.op, in.Prefix, func(ctx context.Context, cred creds.Credentials) error {
		ctx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
		defer cancel()
		resp, err := c.send(ctx, cl, cred)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody+1))
		if err != nil {
			return &retryableError{fmt.Errorf("reading body: %w", err)}
		}
		if len(body) > maxListBody {
			return fmt.Errorf("list body larger than %d bytes", maxListBody)
		}
		if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
			return &retryableError{fmt.Errorf("list body is %d bytes, Content-Length %d: %w",
				len(body), resp.ContentLength, io.ErrUnexpectedEOF)}
		}
		page, err = parseListXML(body)
		if err != nil {
			// A 200 with a cut or garbled body is a transport fault.
			return &retryableError{err}
		}
		return nil
	})
	if err != nil {
		return ListPage{}, err
	}
	c.log.Debug("oss: list", "op", "list", "key", in.Prefix, "objects", len(page.Objects),
		"prefixes", len(page.CommonPrefixes), "truncated", page.IsTruncated)
	return page, nil
}

// listQuery encodes the ListObjectsV2 parameters, leaving out empty ones.
func listQuery(in ListInput) string {
	maxKeys := in.MaxKeys
	if maxKeys <= 0 || maxKeys > maxListKeys {
		maxKeys = maxListKeys
	}
	pairs := make([]queryPair, 0, 7)
	pairs = append(pairs, queryPair{"list-type", "2"}, queryPair{"encoding-type", "url"},
		queryPair{"max-keys", strconv.Itoa(maxKeys)})
	for _, p := range []queryPair{
		{"prefix", in.Prefix}, {"delimiter", in.Delimiter},
		{"start-after", in.StartAfter}, {"continuation-token", in.ContinuationToken},
	} {
		if p.value != "" {
			pairs = append(pairs, p)
		}
	}
	return encodeQuery(pairs)
}

// listResult is the ListBucketResult document. Fields are matched by local
// name, so a namespace on the root does not matter; numbers and times are
// kept as text and parsed leniently.
type listResult struct {
	XMLName               xml.Name
	EncodingType          string `xml:"EncodingType"`
	IsTruncated           string `xml:"IsTruncated"`
	NextContinuationToken string `xml:"NextContinuationToken"`
	Contents              []struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Type         string `xml:"Type"`
		Size         string `xml:"Size"`
	} `xml:"Contents"`
	CommonPrefixes []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
}

// parseListXMLStd is parseListXML with encoding/xml: the fallback for the
// constructs the fast parser leaves alone, and its oracle in the tests.
func parseListXMLStd(body []byte) (ListPage, error) {
	var r listResult
	if err := xml.Unmarshal(body, &r); err != nil {
		return ListPage{}, fmt.Errorf("parsing list result: %w", err)
	}
	if r.XMLName.Local != "ListBucketResult" {
		return ListPage{}, fmt.Errorf("parsing list result: root element <%s>, want <ListBucketResult>", r.XMLName.Local)
	}
	encoded := strings.EqualFold(strings.TrimSpace(r.EncodingType), "url")
	decode := func(field, s string) (string, error) {
		if !encoded {
			return s, nil
		}
		d, err := url.QueryUnescape(s)
		if err != nil {
			return "", fmt.Errorf("decoding %s %q: %w", field, s, err)
		}
		return d, nil
	}
	var page ListPage
	var err error
	switch strings.TrimSpace(r.IsTruncated) {
	case "true":
		page.IsTruncated = true
	case "false", "":
	default:
		return ListPage{}, fmt.Errorf("parsing list result: IsTruncated %q", r.IsTruncated)
	}
	if page.NextContinuationToken, err = decode("NextContinuationToken", strings.TrimSpace(r.NextContinuationToken)); err != nil {
		return ListPage{}, err
	}
	if page.IsTruncated && page.NextContinuationToken == "" {
		return ListPage{}, errors.New("parsing list result: truncated page without NextContinuationToken")
	}
	page.Objects = make([]ObjectInfo, 0, len(r.Contents))
	for _, ct := range r.Contents {
		var o ObjectInfo
		if o.Key, err = decode("Key", ct.Key); err != nil {
			return ListPage{}, err
		}
		if o.Key == "" {
			return ListPage{}, errors.New("parsing list result: object without a key")
		}
		size, perr := strconv.ParseInt(strings.TrimSpace(ct.Size), 10, 64)
		if perr != nil || size < 0 {
			return ListPage{}, fmt.Errorf("parsing list result: size %q of %q", ct.Size, o.Key)
		}
		o.Size = size
		o.ETag = strings.TrimSpace(ct.ETag)
		o.LastModified = parseListTime([]byte(ct.LastModified))
		o.ObjectType = strings.TrimSpace(ct.Type)
		page.Objects = append(page.Objects, o)
	}
	if len(r.CommonPrefixes) > 0 {
		page.CommonPrefixes = make([]string, 0, len(r.CommonPrefixes))
	}
	for _, cp := range r.CommonPrefixes {
		p, err := decode("Prefix", cp.Prefix)
		if err != nil {
			return ListPage{}, err
		}
		page.CommonPrefixes = append(page.CommonPrefixes, p)
	}
	return page, nil
}

// parseListTime parses an ISO 8601 LastModified; an unparsable time is
// zero rather than a failed listing. An RFC 3339 time costs no allocation.
func parseListTime(b []byte) time.Time {
	b = bytes.TrimSpace(b)
	var t time.Time
	if t.UnmarshalText(b) == nil {
		return t.UTC()
	}
	if t, err := time.Parse("2006-01-02T15:04:05.000Z", string(b)); err == nil {
		return t
	}
	return time.Time{}
}
