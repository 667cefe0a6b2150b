build/libmap/diag.o: libmap/diag.c libmap/diag.h
libmap/diag.h:
