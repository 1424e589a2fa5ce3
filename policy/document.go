package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// MaxSize is the largest session policy STS accepts, in characters of
// compact JSON. ReadOnlyJSON counts bytes, which is never less than
// characters, so its output always fits.
const MaxSize = 2048

// Effects.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// Condition operators the evaluator understands.
const (
	OpStringEquals           = "StringEquals"
	OpStringNotEquals        = "StringNotEquals"
	OpStringEqualsIgnoreCase = "StringEqualsIgnoreCase"
	OpStringLike             = "StringLike"
	OpStringNotLike          = "StringNotLike"
)

var knownOperators = map[string]bool{
	OpStringEquals: true, OpStringNotEquals: true, OpStringEqualsIgnoreCase: true,
	OpStringLike: true, OpStringNotLike: true,
}

// Document is a RAM policy: Version "1" and a list of statements.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement grants (Allow) or refuses (Deny) Action on Resource when every
// condition holds.
type Statement struct {
	Effect    string                           `json:"Effect"` // "Allow" or "Deny"
	Action    StringList                       `json:"Action"`
	Resource  StringList                       `json:"Resource"`
	Condition map[string]map[string]StringList `json:"Condition,omitempty"` // operator -> key -> values
}

// StringList is a JSON string or list of strings. It always marshals as a
// list so that the output has one shape.
type StringList []string

// UnmarshalJSON accepts "x" or ["x", "y"].
func (l *StringList) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*l = StringList{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*l = list
	return nil
}

// Parse decodes a policy document and checks its grammar the way STS does
// before accepting a session policy: Version "1", at least one statement,
// Effect Allow or Deny, non-empty Action and Resource, known condition
// operators with non-empty keys and values, and no unknown fields. It does
// not check the size; see MaxSize.
func Parse(data []byte) (Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return Document{}, fmt.Errorf("policy: not a valid policy document: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Document{}, errors.New("policy: not a valid policy document: data after the closing brace")
	}
	if err := d.validate(); err != nil {
		return Document{}, err
	}
	return d, nil
}

func (d Document) validate() error {
	if d.Version != "1" {
		return fmt.Errorf("policy: Version must be \"1\", got %q", d.Version)
	}
	if len(d.Statement) == 0 {
		return errors.New("policy: Statement is empty")
	}
	for i, st := range d.Statement {
		if err := st.validate(); err != nil {
			return fmt.Errorf("policy: Statement[%d]: %w", i, err)
		}
	}
	return nil
}

func (st Statement) validate() error {
	if st.Effect != EffectAllow && st.Effect != EffectDeny {
		return fmt.Errorf("Effect must be %q or %q, got %q", EffectAllow, EffectDeny, st.Effect)
	}
	if err := nonEmpty("Action", st.Action); err != nil {
		return err
	}
	if err := nonEmpty("Resource", st.Resource); err != nil {
		return err
	}
	for op, keys := range st.Condition {
		if !knownOperators[op] {
			return fmt.Errorf("Condition: unsupported operator %q (supported: %s)", op, strings.Join(operatorNames(), ", "))
		}
		if len(keys) == 0 {
			return fmt.Errorf("Condition %s: no keys", op)
		}
		for key, values := range keys {
			if key == "" {
				return fmt.Errorf("Condition %s: empty key", op)
			}
			if len(values) == 0 {
				return fmt.Errorf("Condition %s %q: no values", op, key)
			}
		}
	}
	return nil
}

func nonEmpty(field string, l StringList) error {
	if len(l) == 0 {
		return fmt.Errorf("%s is empty", field)
	}
	for j, s := range l {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("%s[%d] is empty", field, j)
		}
	}
	return nil
}

func operatorNames() []string {
	names := make([]string, 0, len(knownOperators))
	for op := range knownOperators {
		names = append(names, op)
	}
	sort.Strings(names)
	return names
}

// JSON returns the document as compact JSON with a stable field order
// (Version, Statement; Effect, Action, Resource, Condition; condition
// operators and keys sorted) and without HTML escaping, so the text is as
// short as STS's size limit wants and identical for identical documents.
func (d Document) JSON() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		// Only strings, slices and maps of strings: encoding cannot fail.
		panic("policy: encode: " + err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}
