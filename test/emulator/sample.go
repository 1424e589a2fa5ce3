package emulator

// AddSample fills bucket with a small, varied demo tree: nested
// directories, text files, a 20 MiB generated file, a zero-byte marker
// object "empty-dir/", and odd names (spaces, unicode, "+", a key beside a
// directory of the same name).
func (s *Server) AddSample(bucket string) {
	s.CreateBucket(bucket, false)
	files := map[string]string{
		"README.txt":                  "This bucket is served by ossemu, the ossmount emulator.\n",
		"docs/guide.md":               "# Guide\n\nMount with ossmount and read me.\n",
		"docs/notes/2024/jan.txt":     "January notes\n",
		"docs/notes/2024/feb.txt":     "February notes\n",
		"data/numbers.csv":            "n,square\n1,1\n2,4\n3,9\n",
		"data/config.json":            `{"name":"demo","version":1}` + "\n",
		"odd names/with space.txt":    "a key with a space\n",
		"odd names/plus+sign.txt":     "a key with a plus\n",
		"odd names/ünïcödé-文件.txt":    "a key with unicode\n",
		"odd names/percent%41.txt":    "a key with a percent sign\n",
		"shadow":                      "an object named like the directory beside it\n",
		"shadow/inner.txt":            "inside the shadowed directory\n",
		"deep/a/b/c/d/e/f/bottom.txt": "deep down\n",
	}
	for k, v := range files {
		s.PutObject(bucket, k, []byte(v))
	}
	s.PutObjectWithMeta(bucket, "meta/tagged.txt", []byte("has user metadata\n"), "text/plain",
		map[string]string{"author": "ossemu", "purpose": "demo"})
	s.PutObject(bucket, "empty-dir/", nil)
	s.AddGenerated(bucket, Generated{Keys: []string{"big/random-20MiB.bin"}, Size: 20 << 20, Seed: 1})
}
