#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node
import "../dist/cli.js";
