module github.com/jetl-project/jetl/bindings/go

go 1.19
