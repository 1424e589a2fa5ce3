package oss

import (
	"errors"
	"testing"
)

// TestListParsersMarkSymlinks: both list parsers report a link's
// <Type>Symlink</Type> as ObjectTypeSymlink, so fs can show it as a link.
func TestListParsersMarkSymlinks(t *testing.T) {
	body := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult><Name>b</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>
<Contents><Key>link</Key><LastModified>2024-05-01T12:00:07.000Z</LastModified><ETag>"AB"</ETag><Type>Symlink</Type><Size>9</Size><StorageClass>Standard</StorageClass></Contents>
<Contents><Key>plain</Key><LastModified>2024-05-01T12:00:07.000Z</LastModified><ETag>"CD"</ETag><Type>Normal</Type><Size>3</Size><StorageClass>Standard</StorageClass></Contents>
</ListBucketResult>`)
	fast := func(b []byte) (ListPage, error) {
		if page, ok := parseListFast(b); ok {
			return page, nil
		}
		return ListPage{}, errors.New("handed to encoding/xml")
	}
	for name, parse := range map[string]func([]byte) (ListPage, error){"fast": fast, "encoding/xml": parseListXMLStd} {
		page, err := parse(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(page.Objects) != 2 || page.Objects[0].ObjectType != ObjectTypeSymlink || page.Objects[1].ObjectType != "Normal" {
			t.Fatalf("%s: objects %+v", name, page.Objects)
		}
	}
}

func TestDecodeSymlinkTarget(t *testing.T) {
	for in, want := range map[string]string{
		"dir/file.txt":         "dir/file.txt",
		"dir/a%20b/%C3%BC.txt": "dir/a b/ü.txt",
		"100%":                 "100%", // not an escape: the key as it is
		"a+b":                  "a+b",  // path escaping: "+" is itself
		"dir%2Fx":              "dir/x",
		"ü-raw":                "ü-raw",
	} {
		if got := decodeSymlinkTarget(in); got != want {
			t.Errorf("decodeSymlinkTarget(%q) = %q, want %q", in, got, want)
		}
	}
}
