build/libmap/map.o: libmap/map.c libmap/map.h libmap/diag.h \
 libmap/atomic.h libmap/internal.h
libmap/map.h:
libmap/diag.h:
libmap/atomic.h:
libmap/internal.h:
