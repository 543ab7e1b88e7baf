module jetl/examples/extract

go 1.19

require jetl v0.0.0

replace jetl => ../../bindings/go
