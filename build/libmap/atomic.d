build/libmap/atomic.o: libmap/atomic.c libmap/atomic.h libmap/diag.h
libmap/atomic.h:
libmap/diag.h:
