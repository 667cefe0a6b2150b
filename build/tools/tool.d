build/tools/tool.o: tools/tool.c tools/tool.h libmap/diag.h
tools/tool.h:
libmap/diag.h:
