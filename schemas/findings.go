package schemas

import (
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Finding is one reason a document does not match its schema.
type Finding struct {
	// Pointer is the RFC 6901 JSON pointer of the offending value, e.g.
	// "/levels/0/ttft_ms"; "" is the document root. For a missing property
	// it points at the object that lacks it.
	Pointer string `json:"pointer"`
	// Message says what is wrong, in English.
	Message string `json:"message"`
}

var printer = message.NewPrinter(language.English)

// flatten keeps only the leaves of the error tree: inner nodes ("allOf
// failed", "validation failed" from a $ref) restate their causes without
// saying what is wrong. Two inner kinds need care, see prune and
// *kind.PropertyNames below.
func flatten(root *jsonschema.ValidationError) []Finding {
	var out []Finding
	// fixed, when set, overrides the causes' own locations (see below).
	var walk func(ve *jsonschema.ValidationError, fixed *string, prefix string)
	walk = func(ve *jsonschema.ValidationError, fixed *string, prefix string) {
		at := pointer(ve.InstanceLocation)
		if fixed != nil {
			at = *fixed
		}
		if pn, ok := ve.ErrorKind.(*kind.PropertyNames); ok {
			// The causes validated the name as a lone string, so their
			// locations are "" and must not replace the object's. (In
			// jsonschema v6.0.3 the object's location itself can be
			// clobbered, santhosh-tekuri/jsonschema#258 and #269, which is
			// why our schemas use patternProperties instead.)
			for _, c := range ve.Causes {
				walk(c, &at, prefix+describe(pn)+": ")
			}
			return
		}
		if len(ve.Causes) == 0 {
			out = append(out, Finding{Pointer: at, Message: prefix + describe(ve.ErrorKind)})
			return
		}
		for _, c := range prune(ve) {
			walk(c, fixed, prefix)
		}
	}
	walk(root, nil, "")
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pointer != out[j].Pointer {
			return out[i].Pointer < out[j].Pointer
		}
		return out[i].Message < out[j].Message
	})
	// Branches of anyOf/oneOf can report the same leaf twice.
	uniq := out[:0]
	for _, f := range out {
		if len(uniq) == 0 || f != uniq[len(uniq)-1] {
			uniq = append(uniq, f)
		}
	}
	return uniq
}

// prune drops, under anyOf and oneOf, the branches that failed only because
// the value had another type, when some branch did accept the type: for
// "null or a level object", a bad object should report what is wrong with the
// object, not also that it is not null.
func prune(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	switch k := ve.ErrorKind.(type) {
	case *kind.AnyOf:
	case *kind.OneOf:
		if len(k.Subschemas) > 0 {
			return ve.Causes
		}
	default:
		return ve.Causes
	}
	var keep []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		if !typeOnly(c) {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return ve.Causes
	}
	return keep
}

// typeOnly reports whether every leaf under ve is a type mismatch.
func typeOnly(ve *jsonschema.ValidationError) bool {
	if len(ve.Causes) == 0 {
		_, ok := ve.ErrorKind.(*kind.Type)
		return ok
	}
	for _, c := range ve.Causes {
		if !typeOnly(c) {
			return false
		}
	}
	return true
}

// describe renders an error kind in English. The validator lists unexpected
// properties in map order, so they are sorted here to keep output stable.
func describe(k jsonschema.ErrorKind) string {
	if ap, ok := k.(*kind.AdditionalProperties); ok {
		props := append([]string(nil), ap.Properties...)
		sort.Strings(props)
		k = &kind.AdditionalProperties{Properties: props}
	}
	return k.LocalizedString(printer)
}

// escaper escapes a reference token per RFC 6901: "~" first as "~0", then "/"
// as "~1" (a Replacer does both in one pass, so the order cannot go wrong).
var escaper = strings.NewReplacer("~", "~0", "/", "~1")

// pointer renders instance-location tokens as an RFC 6901 JSON pointer.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escaper.Replace(t))
	}
	return b.String()
}
