module github.com/jetl-project/jetl/examples/go

go 1.19

require github.com/jetl-project/jetl/bindings/go v0.0.0

replace github.com/jetl-project/jetl/bindings/go => ../../bindings/go
