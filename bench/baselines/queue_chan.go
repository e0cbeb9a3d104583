// SPDX-License-Identifier: MIT
//
// queue_chan.go - the Go baseline for bench/queue.c: one producer
// goroutine sends N ints through a channel to one consumer, for an
// unbuffered channel and capacities 1 and 1024. Prints one line per case:
//   RESULT name=go_capC unit=items/s value=V
// Usage: go run queue_chan.go [N]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func run(n int, capacity int) float64 {
	ch := make(chan int, capacity)
	done := make(chan int)
	start := time.Now()
	go func() {
		sum := 0
		for v := range ch {
			sum += v
		}
		done <- sum
	}()
	for i := 1; i <= n; i++ {
		ch <- i
	}
	close(ch)
	sum := <-done
	elapsed := time.Since(start).Seconds()
	if sum != n*(n+1)/2 {
		fmt.Fprintf(os.Stderr, "go: wrong sum %d\n", sum)
		os.Exit(1)
	}
	return float64(n) / elapsed
}

func main() {
	n := 2000000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil && v > 0 {
			n = v
		}
	}
	for _, c := range []int{0, 1, 1024} {
		best := []float64{run(n, c), run(n, c), run(n, c)}
		// median of three
		a, b, d := best[0], best[1], best[2]
		med := a + b + d - max3(a, b, d) - min3(a, b, d)
		fmt.Printf("RESULT name=go_cap%d unit=items/s value=%.0f\n", c, med)
	}
}

func max3(a, b, c float64) float64 {
	if a < b {
		a = b
	}
	if a < c {
		a = c
	}
	return a
}

func min3(a, b, c float64) float64 {
	if a > b {
		a = b
	}
	if a > c {
		a = c
	}
	return a
}
