package main

// The man page and the completion scripts are generated from the command
// definitions; TestGeneratedFiles fails when they are out of date.

//go:generate go run ./internal/gendocs
