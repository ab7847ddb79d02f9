package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// specialTypes are the types with a JSON form of their own (their own UnmarshalJSON) that kops's
// documents hold, each with the node that describes that form. Any other type with its own JSON
// or text (un)marshalling stops the generator: its form cannot be read off its fields.
var specialTypes = map[reflect.Type]func() node{
	reflect.TypeFor[metav1.Time]():          func() node { return node{"type": "string", "format": "date-time"} },
	reflect.TypeFor[resource.Quantity]():    func() node { return node{"x-kops-type": "quantity"} },
	reflect.TypeFor[metav1.Duration]():      func() node { return node{"x-kops-type": "duration"} },
	reflect.TypeFor[intstr.IntOrString]():   func() node { return node{"x-kops-type": "int-or-string"} },
	reflect.TypeFor[runtime.RawExtension](): func() node { return node{"x-kops-any": true} },
	reflect.TypeFor[metav1.FieldsV1]():      func() node { return node{"x-kops-any": true} },
}

var customJSONInterfaces = []reflect.Type{
	reflect.TypeFor[json.Unmarshaler](),
	reflect.TypeFor[json.Marshaler](),
	reflect.TypeFor[encoding.TextUnmarshaler](),
	reflect.TypeFor[encoding.TextMarshaler](),
}

// checkNoCustomJSON fails for a type that decodes or encodes itself and is not in specialTypes.
func checkNoCustomJSON(t reflect.Type, at string) error {
	for _, i := range customJSONInterfaces {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return fmt.Errorf("%s: type %s implements %s, so its JSON form is its own; add it to specialTypes (special.go) with the form it reads", at, typeName(t), i)
		}
	}
	return nil
}

func typeName(t reflect.Type) string {
	if t.PkgPath() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}
