build/libmap/map_bdb.o: libmap/map_bdb.c libmap/internal.h libmap/map.h \
 libmap/diag.h
libmap/internal.h:
libmap/map.h:
libmap/diag.h:
