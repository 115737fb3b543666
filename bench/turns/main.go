// Command turns runs commands in turns, A B A B ..., and prints for each
// the median, minimum and maximum of its wall time and of its minor page
// faults. Running in turns spreads the load of a shared machine over all
// the commands alike, where one command's runs after another's would
// each meet a different load; page faults do not depend on the load.
//
//	turns [-runs N] [-warmup N] CMD...
//
// Each CMD is one argument, split at spaces and run without a shell, its
// output thrown away. One line per CMD, tab-separated: the command, then
// median, min and max in ms, then median, min and max page faults.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 100, "runs of each command")
	warmup := flag.Int("warmup", 5, "runs of each command before measuring")
	flag.Parse()
	cmds := flag.Args()
	if len(cmds) == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: turns [-runs N] [-warmup N] CMD...")
		os.Exit(2)
	}
	ms := make([][]float64, len(cmds))
	faults := make([][]float64, len(cmds))
	for r := 0; r < *warmup+*runs; r++ {
		for i, c := range cmds {
			t, f, err := runOnce(c)
			if err != nil {
				fmt.Fprintf(os.Stderr, "turns: %s: %v\n", c, err)
				os.Exit(1)
			}
			if r >= *warmup {
				ms[i] = append(ms[i], t)
				faults[i] = append(faults[i], f)
			}
		}
	}
	for i, c := range cmds {
		fmt.Printf("%s\t%s\t%s\n", c, stats(ms[i], "%.3f"), stats(faults[i], "%.0f"))
	}
}

// runOnce runs cmd and returns its wall time in ms and its minor faults.
func runOnce(cmd string) (float64, float64, error) {
	f := strings.Fields(cmd)
	c := exec.Command(f[0], f[1:]...)
	start := time.Now()
	if err := c.Run(); err != nil {
		return 0, 0, err
	}
	d := time.Since(start)
	ru, _ := c.ProcessState.SysUsage().(*syscall.Rusage)
	var minflt float64
	if ru != nil {
		minflt = float64(ru.Minflt)
	}
	return float64(d.Microseconds()) / 1000, minflt, nil
}

// stats is the median, min and max of v, tab-separated.
func stats(v []float64, verb string) string {
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return fmt.Sprintf(verb+"\t"+verb+"\t"+verb, med, v[0], v[len(v)-1])
}
