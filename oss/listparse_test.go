package oss

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

// realisticListPage is a page as OSS sends it: declaration, namespace,
// url-encoded keys, owners and restore info the parser must skip.
func realisticListPage(n int, truncated bool) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ListBucketResult xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com">` + "\n" +
		`  <Name>bucket</Name><Prefix>dir%2F</Prefix><MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter>` + "\n" +
		`  <EncodingType>url</EncodingType>` + "\n")
	fmt.Fprintf(&b, "  <IsTruncated>%v</IsTruncated>\n", truncated)
	if truncated {
		b.WriteString("  <NextContinuationToken>CgJi%2BYw--</NextContinuationToken>\n")
	}
	for i := range n {
		fmt.Fprintf(&b, "  <Contents>\n    <Key>dir%%2F%s%d</Key>\n    <LastModified>2024-05-%02dT12:%02d:07.%03dZ</LastModified>\n"+
			"    <ETag>&quot;5B3C1A2E053D763E1B002CC607C5A%03d&quot;</ETag>\n    <Type>%s</Type>\n    <Size>%d</Size>\n"+
			"    <StorageClass>%s</StorageClass>\n    <Owner><ID>1234</ID><DisplayName>1234</DisplayName></Owner>\n"+
			"    <RestoreInfo>ongoing-request=&quot;false&quot;</RestoreInfo>\n  </Contents>\n",
			url.QueryEscape([]string{"a b+c", "文件\x01", "x&y<z>", "plain"}[i%4]), i, 1+i%28, i%60, i%1000, i,
			[]string{"Normal", "Multipart", "Appendable", "Symlink"}[i%4], i*1000, []string{"Standard", "IA", "Archive"}[i%3])
	}
	b.WriteString("  <CommonPrefixes><Prefix>dir%2Fsub%20dir%2F</Prefix></CommonPrefixes>\n  <KeyCount>3</KeyCount>\n</ListBucketResult>\n")
	return []byte(b.String())
}

// emulatorListPage is a truncated page as the emulator sends it, with
// encoding/xml's escaping (&#34; in every ETag), owners and odd keys.
func emulatorListPage(t testing.TB) []byte {
	s, err := emulator.Start(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.CreateBucket("page", true) // public-read: the GET below is anonymous
	for _, k := range []string{"a b", "文件", "ctl\x01", "amp&lt;", "dir/x", "q?x=y#z", "100%"} {
		s.PutObject("page", k, []byte(k))
	}
	resp, err := http.Get(s.OSSURL() + "/page/?list-type=2&encoding-type=url&fetch-owner=true&delimiter=%2F&max-keys=6")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("&#34;")) {
		t.Fatalf("%d %v\n%s", resp.StatusCode, err, body)
	}
	return body
}

// addListSeeds seeds f with FuzzParseListXML's stored corpus, realistic
// pages and the constructs the fast parser decides about itself.
func addListSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseListXML", "*"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// Corpus files are `go test fuzz v1` followed by []byte("...").
		lines := strings.SplitN(string(data), "\n", 2)
		if len(lines) == 2 {
			var s string
			if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lines[1]), "[]byte("), ")")), "%q", &s); err == nil {
				f.Add([]byte(s))
			}
		}
	}
	f.Add(realisticListPage(3, true))
	f.Add(emulatorListPage(f))
	f.Add(realisticListPage(2, false))
	for _, s := range []string{
		`<ListBucketResult/>`,
		`<ListBucketResult><Contents><Key>&apos;&quot;&lt;&gt;&amp;&#xFFFD;&#x10FFFF;&#xD800;&#55296;&#065;</Key><Size>1</Size></Contents></ListBucketResult>`,
		`<ListBucketResult><Contents><Key>&#0;&#xFFFE;&#x110000;&#;&#x;&#X41;&AMP;</Key><Size>1</Size></Contents></ListBucketResult>`,
		"<ListBucketResult><Contents><Key>\xe6\x96\x87\xef\xbf\xbe\xed\xa0\x80\t\x00</Key><Size>1</Size></Contents></ListBucketResult>",
		`<a:ListBucketResult xmlns:a="x"><a:Contents><a:Key>k</a:Key><a:Size>1</a:Size></a:Contents></a:ListBucketResult>`,
		`<!-- c --><ListBucketResult><Contents><Key>a<!--x-->b<i>z</i>c&#x41;&#66;&amp;</Key><Size> 7 </Size></Contents></ListBucketResult>trailing<junk`,
		`<ListBucketResult><Contents><Key>k</Key><Key></Key><Size>1</Size></Contents></ListBucketResult>`,
		`<ListBucketResult><Contents><Key><![CDATA[a<b]]></Key><Size>1</Size></Contents></ListBucketResult>`,
		`<ListBucketResult><Contents><Key>a` + "\r\n" + `b</Key><Size>1</Size></Contents></ListBucketResult>`,
		`<ListBucketResult><Contents a='1' b = "&lt;]]>"><Key>k]]</Key><Size>+1</Size><LastModified>2024-02-30T00:00:00.000Z</LastModified></Contents></ListBucketResult>`,
		`<ListBucketResult><Contents><Key>%41+</Key><Size>1</Size></Contents><EncodingType> URL </EncodingType></ListBucketResult>`,
		`<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken> t </NextContinuationToken><CommonPrefixes><Prefix>p</Prefix><Prefix>q</Prefix></CommonPrefixes></ListBucketResult>`,
		// Edges of the fast path: references at the ASCII boundary, xmlns
		// inside, repeated fields, sizes of 18 and 19 digits, odd times,
		// text around the root, deep nesting and non-characters.
		`<ListBucketResult><Contents><Key>&#x9;&#xA;&#xD;&#127;&#128;&#x7f;&#32;&#0032;&#x00041;</Key><Size>1</Size></Contents></ListBucketResult>`,
		`<ListBucketResult xmlns=""><Contents xmlns="a"><Key>a</Key><Key>b</Key><Size>007</Size><Size>999999999999999999</Size></Contents></ListBucketResult>`,
		`<ListBucketResult><Contents><Key>k</Key><Size>9999999999999999999</Size><ETag> "e" </ETag><Type> Symlink</Type></Contents></ListBucketResult>`,
		`<ListBucketResult><Contents><Key>k</Key><Size>1</Size><LastModified>2024-02-29T23:59:59.999+08:00</LastModified></Contents>` +
			`<Contents><Key>k</Key><Size>1</Size><LastModified> 2023-02-29T00:00:00.000Z</LastModified></Contents></ListBucketResult>`,
		"\xef\xbb\xbfjunk> \n<ListBucketResult><a><b><c><d><e><f><g><h>x</h></g></f></e></d></c></b></a></ListBucketResult> junk<",
		"<ListBucketResult><Name>\xef\xbf\xbe\xef\xbf\xbd\xc2\x80</Name><EncodingType>Url </EncodingType><Contents><Key>a%2</Key><Size>1</Size></Contents></ListBucketResult>",
		`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult ><Contents><Key>k</Key ><Size>1</Size></Contents></ListBucketResult>`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzListParsersAgree checks the hand-written parser against encoding/xml:
// every page it returns is the page encoding/xml decodes from the same
// bytes. Where it gives up, parseListXML's answer is encoding/xml's by
// construction.
func FuzzListParsersAgree(f *testing.F) {
	addListSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := parseListFast(body)
		if !ok {
			return
		}
		want, err := parseListXMLStd(body)
		if err != nil {
			t.Fatalf("fast parser accepted what encoding/xml rejects (%v)\nfast page %#v", err, got)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pages differ\nfast %#v\nstd  %#v", got, want)
		}
	})
}

// TestListFastPathTakesOSSPages: the shapes OSS and the emulator send stay
// on the fast path (a page handed to encoding/xml is right but ten times
// slower), and each is decoded as encoding/xml decodes it.
func TestListFastPathTakesOSSPages(t *testing.T) {
	pages := map[string][]byte{"emulator": emulatorListPage(t)}
	for _, n := range []int{0, 1, 7, 1000} {
		pages[fmt.Sprint("oss ", n)] = realisticListPage(n, n > 0)
	}
	for name, body := range pages {
		t.Run(name, func(t *testing.T) {
			got, ok := parseListFast(body)
			if !ok {
				t.Fatalf("handed to encoding/xml:\n%s", body)
			}
			want, err := parseListXMLStd(body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pages differ\nfast %#v\nstd  %#v", got, want)
			}
			if name == "oss 7" && (got.Objects[0].Key != "dir/a b+c0" || got.Objects[0].ETag != `"5B3C1A2E053D763E1B002CC607C5A000"` ||
				!got.Objects[0].LastModified.Equal(time.Date(2024, 5, 1, 12, 0, 7, 0, time.UTC)) || got.Objects[3].ObjectType != "Symlink") {
				t.Fatalf("objects %+v", got.Objects)
			}
		})
	}
}

// BenchmarkListParsers compares parseListXML with encoding/xml on one
// realistic 1000-key page (entities, owners, restore info), side by side.
func BenchmarkListParsers(b *testing.B) {
	body := realisticListPage(1000, true)
	for _, p := range []struct {
		name  string
		parse func([]byte) (ListPage, error)
	}{{"fast", parseListXML}, {"encoding-xml", parseListXMLStd}} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if page, err := p.parse(body); err != nil || len(page.Objects) != 1000 {
					b.Fatalf("%d objects, %v", len(page.Objects), err)
				}
			}
		})
	}
}
