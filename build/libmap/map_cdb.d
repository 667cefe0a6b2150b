build/libmap/map_cdb.o: libmap/map_cdb.c libmap/internal.h libmap/map.h \
 libmap/diag.h
libmap/internal.h:
libmap/map.h:
libmap/diag.h:
