module jetl

go 1.19
