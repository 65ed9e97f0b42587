package fairness

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// field reads a struct field by its json name, so expectation files can use
// the output column names.
func field(v any, name string) (any, error) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if f.Anonymous {
			if got, err := field(rv.Field(i).Interface(), name); err == nil {
				return got, nil
			}
			continue
		}
		tag, _, _ := cutComma(f.Tag.Get("json"))
		if tag == name || (tag == "" && f.Name == name) {
			return rv.Field(i).Interface(), nil
		}
	}
	return nil, fmt.Errorf("%T has no field %q", v, name)
}

func cutComma(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ',' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "null"
		}
		return rv.Elem().Interface()
	}
	return v
}

func asFloat(v any) (f float64, null, ok bool) {
	switch x := v.(type) {
	case *float64:
		if x == nil {
			return 0, true, true
		}
		return *x, false, true
	case float64:
		return x, false, true
	case int64:
		return float64(x), false, true
	case int:
		return float64(x), false, true
	case json.Number:
		g, err := x.Float64()
		return g, false, err == nil
	}
	return 0, false, false
}
