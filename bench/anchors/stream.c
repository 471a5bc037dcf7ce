// The machine's memory bandwidth, measured the way the ops suite's
// memory-bound rows use memory: T threads each stream their own contiguous
// slice of a large float64 array (first-touched by that thread).
//
//   stream THREADS MIB REPS
//
// Prints the median over REPS of:
//   read: X GB/s   a sum over the array (what a reduction pays; 8 bytes per element)
//   copy: X GB/s   b[i] = a[i] (STREAM's convention: 16 bytes per element, read + write)
// Each rep starts all threads together at a barrier and is timed from the
// barrier to the last thread's finish, so a thread descheduled by other work
// on the machine counts against the figure, as it would against a kernel.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double *a, *b;
static size_t n;
static int threads, reps;
static pthread_barrier_t start, done;
static volatile double sink[256];
static int mode; /* 0 read, 1 copy */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void slice(int t, size_t *lo, size_t *hi) {
  *lo = n * (size_t)t / (size_t)threads;
  *hi = n * (size_t)(t + 1) / (size_t)threads;
}

static void *work(void *arg) {
  int t = (int)(size_t)arg;
  size_t lo, hi;
  slice(t, &lo, &hi);
  // First touch by the thread that streams the slice (NUMA-local pages).
  for (size_t i = lo; i < hi; i++) {
    a[i] = (double)(i & 1023) * 0.5;
    b[i] = 0;
  }
  for (int r = 0; r < 2 * reps + 2; r++) {
    pthread_barrier_wait(&start);
    if (mode == 0) {
      // Eight independent accumulators so the loop is bound by memory, not by the add latency.
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      size_t i = lo;
      for (; i + 8 <= hi; i += 8) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
        s4 += a[i + 4];
        s5 += a[i + 5];
        s6 += a[i + 6];
        s7 += a[i + 7];
      }
      for (; i < hi; i++) s0 += a[i];
      sink[t & 255] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
    } else {
      memcpy(b + lo, a + lo, (hi - lo) * sizeof(double));
    }
    pthread_barrier_wait(&done);
  }
  return NULL;
}

static int cmp(const void *x, const void *y) {
  double p = *(const double *)x, q = *(const double *)y;
  return p < q ? -1 : p > q;
}

int main(int argc, char **argv) {
  threads = argc > 1 ? atoi(argv[1]) : 2;
  size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 512;
  reps = argc > 3 ? atoi(argv[3]) : 5;
  if (threads < 1 || mib < 1 || reps < 1) {
    fprintf(stderr, "usage: stream THREADS MIB REPS\n");
    return 2;
  }
  n = mib * 1024 * 1024 / sizeof(double);
  a = aligned_alloc(64, n * sizeof(double));
  b = aligned_alloc(64, n * sizeof(double));
  if (!a || !b) {
    fprintf(stderr, "stream: cannot allocate 2 x %zu MiB\n", mib);
    return 1;
  }
  pthread_barrier_init(&start, NULL, threads + 1);
  pthread_barrier_init(&done, NULL, threads + 1);
  pthread_t *tid = malloc(sizeof(pthread_t) * threads);
  for (int t = 0; t < threads; t++) pthread_create(&tid[t], NULL, work, (void *)(size_t)t);
  double *rd = malloc(sizeof(double) * reps), *cp = malloc(sizeof(double) * reps);
  // One untimed rep of each mode first (page faults were paid in the first touch; this warms the TLB and caches).
  for (int m = 0; m < 2; m++) {
    for (int r = 0; r < reps + 1; r++) {
      mode = m;
      double t0 = now();
      pthread_barrier_wait(&start);
      pthread_barrier_wait(&done);
      double s = now() - t0;
      if (r == 0) continue;
      if (m == 0) rd[r - 1] = n * sizeof(double) / s / 1e9;
      else cp[r - 1] = 2.0 * n * sizeof(double) / s / 1e9;
    }
  }
  for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
  qsort(rd, reps, sizeof(double), cmp);
  qsort(cp, reps, sizeof(double), cmp);
  printf("threads: %d, array: %zu MiB\n", threads, mib);
  printf("read: %.3f GB/s\n", rd[reps / 2]);
  printf("copy: %.3f GB/s\n", cp[reps / 2]);
  return 0;
}
