# bench/record.sh defines record, which every benchmark script calls once
# per measurement it makes, after printing its own line for a person.
#
#   record WHAT IPCCTL BASELINE UNIT BAR
#
# appends one tab-separated line to the file named by $BENCH_RECORD (bench/run
# sets it and turns the lines into its table; without it, record does
# nothing). WHAT names the row (the same text every run, so that runs of a
# row are gathered), IPCCTL and BASELINE are numbers in UNIT (BASELINE is
# "-" for a row with no baseline), and BAR is what the row must meet:
# "ratio<=1.3", "ratio>=0.5", "ratio<1" (ratio = IPCCTL / BASELINE), or
# "ipcctl<=20" for a bar on the figure itself.
record() {
	if [ -n "${BENCH_RECORD:-}" ]; then
		printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$BENCH_RECORD"
	fi
}
