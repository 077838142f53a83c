module github.com/goroscope/gendump

go 1.21
