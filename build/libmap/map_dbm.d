build/libmap/map_dbm.o: libmap/map_dbm.c libmap/internal.h libmap/map.h \
 libmap/diag.h
libmap/internal.h:
libmap/map.h:
libmap/diag.h:
