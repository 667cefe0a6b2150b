# relaymap: one non-recursive GNU Makefile.
# Sources are found by wildcard so that a new backend, codec or test needs no edit here.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# Distribution packages link the tools against the shared library
# (TOOLS_LIBMAP=shared); the default static link needs no LD_LIBRARY_PATH.
TOOLS_LIBMAP ?= static
# Object directory; the sanitizer build uses its own.
O       ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
# Packagers may build with WERROR= to turn -Werror off.
WERROR  ?= -Werror
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wmissing-declarations -Wpointer-arith \
           -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef -Wvla

WITH_BDB  ?= 1
WITH_GDBM ?= 1
WITH_CDB  ?= 1
WITH_LMDB ?= 1

BACKEND_DEFS =
BACKEND_LIBS =
ifeq ($(WITH_BDB),1)
BACKEND_DEFS += -DLM_HAVE_BDB
BACKEND_LIBS += -ldb
endif
ifeq ($(WITH_GDBM),1)
BACKEND_DEFS += -DLM_HAVE_GDBM
BACKEND_LIBS += -lgdbm_compat -lgdbm
endif
ifeq ($(WITH_CDB),1)
BACKEND_DEFS += -DLM_HAVE_CDB
BACKEND_LIBS += -lcdb
endif
ifeq ($(WITH_LMDB),1)
BACKEND_DEFS += -DLM_HAVE_LMDB
BACKEND_LIBS += -llmdb
endif
# The cdb writer hands its blocks to a second thread (libmap/map_cdb.c);
# lm_verify and lm_verify_files use a second thread
BACKEND_LIBS += -pthread

LM_CPPFLAGS = -I. -D_POSIX_C_SOURCE=200809L $(BACKEND_DEFS)
LM_CFLAGS   = -std=c11 $(WARN) $(WERROR) -MMD -MP
ALL_CFLAGS  = $(LM_CPPFLAGS) $(CPPFLAGS) $(LM_CFLAGS) $(CFLAGS)
SAN         = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

LIB_SRCS  = $(sort $(wildcard libmap/*.c formats/*.c))
LIB_OBJS  = $(LIB_SRCS:%.c=$(O)/%.o)
PIC_OBJS  = $(LIB_SRCS:%.c=$(O)/pic/%.o)
TOOLS     = $(patsubst tools/%.c,%,$(filter-out tools/tool.c,$(wildcard tools/*.c)))
TOOL_BINS = $(TOOLS:%=$(O)/%)
UNIT_SRCS = $(sort $(wildcard tests/unit/check_*.c))
UNIT_OBJS = $(UNIT_SRCS:%.c=$(O)/%.o)
SUITES    = $(filter-out main,$(patsubst tests/unit/check_%.c,%,$(UNIT_SRCS)))
HEADERS   = $(wildcard libmap/*.h)
# Headers private to the library (never installed): the backend vtable and
# the decide() internals, the emitter toolkit the codecs share, the address
# number the ip*.c files share.
PRIVATE_HEADERS = libmap/internal.h libmap/pindex.h libmap/util.h libmap/emit.h \
                  libmap/ipnum.h
PUBLIC_HEADERS = $(filter-out $(PRIVATE_HEADERS),$(HEADERS))

# The release; tools print it with --version, libmap.pc carries it.
VERSION   = 0.2.0
SOVERSION = 0
LIBA  = $(O)/libmap.a
LIBSO = $(O)/libmap.so.$(SOVERSION)

# Keep the tools' objects: they are intermediates of a pattern rule.
.SECONDARY:

.PHONY: all check unit cli interop e2e package sanitize fuzz fuzz-quick proof bench bench-quick demo \
        deps deps-test headers install uninstall clean deb

all: $(LIBA) $(LIBSO) $(TOOL_BINS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(O)/tools/tool.o: ALL_CFLAGS += -DRELAYMAP_VERSION='"$(VERSION)"'
$(O)/tools/tool.o: Makefile

# Berkeley DB's db.h uses BSD types (u_int) that strict POSIX mode hides.
$(O)/libmap/map_bdb.o $(O)/pic/libmap/map_bdb.o: ALL_CFLAGS += -D_DEFAULT_SOURCE

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# The shared library exports only the public lm_ names (libmap/libmap.map).
$(LIBSO): $(PIC_OBJS) libmap/libmap.map
	$(CC) -shared -Wl,-soname,libmap.so.$(SOVERSION) -Wl,--version-script=libmap/libmap.map \
	    $(CFLAGS) $(LDFLAGS) -o $@ $(PIC_OBJS) $(BACKEND_LIBS)

ifeq ($(TOOLS_LIBMAP),shared)
$(O)/%: $(O)/tools/%.o $(O)/tools/tool.o $(LIBSO)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/tools/tool.o $(LIBSO)
else
$(O)/%: $(O)/tools/%.o $(O)/tools/tool.o $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/tools/tool.o $(LIBA) $(BACKEND_LIBS)
endif

# --- tests ----------------------------------------------------------------

$(O)/tests/unit/suites.h: $(UNIT_SRCS)
	@mkdir -p $(@D)
	@printf '%s\n' $(foreach s,$(SUITES),'LM_SUITE($(s))') > $@.tmp && mv $@.tmp $@

$(O)/tests/unit/check_main.o: tests/unit/check_main.c $(O)/tests/unit/suites.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -I$(O)/tests/unit -c -o $@ $<

$(O)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(O)/check_libmap: $(UNIT_OBJS) $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIBA) $(BACKEND_LIBS) $(CHECK_LIBS)

# Dependencies are installed before anything is built, even under make -j.
check:
	@sh mk/deps.sh test
	@$(MAKE) --no-print-directory all headers $(O)/check_libmap
	@$(MAKE) --no-print-directory unit cli interop e2e package

unit: $(O)/check_libmap
	$(O)/check_libmap

# The fault-injection shim (tests/fault/faultshim.c): LD_PRELOAD makes the
# Nth file-changing call under FAULT_DIR fail.
FAULTSHIM = $(O)/tests/fault/faultshim.so
$(FAULTSHIM): tests/fault/faultshim.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra $(WERROR) -fPIC -shared -O1 -g -o $@ $< -ldl

cli: all $(FAULTSHIM)
	@O=$(O) sh tests/run.sh tests/cli

interop: all
	@O=$(O) sh tests/run.sh tests/interop

e2e: all
	@O=$(O) sh tests/run.sh tests/e2e

# make deb in a scratch directory, lintian, and the packaged tools at work.
package: all
	@O=$(O) sh tests/run.sh tests/package

# The instrumented build runs several times slower: Check's time limits
# (there to catch a quadratic step) are scaled to match.
sanitize:
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	CK_TIMEOUT_MULTIPLIER=6 $(MAKE) O=build-san CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" check

headers:
	@for h in $(PUBLIC_HEADERS); do \
	    printf '#include "%s"\n' $$h | $(CC) $(LM_CPPFLAGS) -std=c11 $(WARN) $(WERROR) -fsyntax-only -x c - || exit 1; \
	done; echo "headers: all self-contained"

# --- fuzzing (clang libFuzzer) ---------------------------------------------

FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1
FUZZ_TIME ?= 60

build-fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	clang $(LM_CPPFLAGS) -D_DEFAULT_SOURCE -std=c11 $(FUZZ_FLAGS) -o $@ $< $(LIB_SRCS) $(BACKEND_LIBS)

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$${f#build-fuzz/}; mkdir -p build-fuzz/corpus/$$n; \
	    echo "fuzz: $$n for $(FUZZ_TIME)s"; \
	    $$f -max_total_time=$(FUZZ_TIME) -max_len=4096 build-fuzz/corpus/$$n tests/fuzz/seeds/$${n#fuzz_} \
	        >build-fuzz/$$n.log 2>&1 || { tail -40 build-fuzz/$$n.log; exit 1; }; done; echo "fuzz: all targets survived"

fuzz-quick:
	$(MAKE) --no-print-directory fuzz FUZZ_TIME=10

# The proof property test of make check over many more policy pairs, from a
# seed of its own each run (printed, so that a failure can be replayed).
PROOF_PAIRS ?= 5000
proof: $(O)/check_libmap
	@seed=$${PROOF_SEED:-$$(date +%s)}; echo "proof: $(PROOF_PAIRS) policy pairs from seed $$seed"; \
	RELAYMAP_PROOF_PAIRS=$(PROOF_PAIRS) RELAYMAP_PROOF_SEED=$$seed CK_TIMEOUT_MULTIPLIER=100 \
	    CK_RUN_SUITE=verify CK_RUN_CASE=proof $(O)/check_libmap

# --- demo, bench, deps -------------------------------------------------------

demo:
	@sh mk/deps.sh build
	@$(MAKE) --no-print-directory all
	@O=$(O) sh examples/demo.sh

bench:
	@sh mk/deps.sh test
	@$(MAKE) --no-print-directory all
	@O=$(O) sh bench/run.sh

bench-quick:
	@sh mk/deps.sh test
	@$(MAKE) --no-print-directory all
	@O=$(O) BENCH_SIZES=100000 BENCH_RELAYCONV_RUNS=$${BENCH_RELAYCONV_RUNS:-1} sh bench/run.sh

deps:
	@sh mk/deps.sh build

deps-test:
	@sh mk/deps.sh test

# --- install -----------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/libmap \
	    $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(LIBA) $(DESTDIR)$(LIBDIR)
	install -m 755 $(LIBSO) $(DESTDIR)$(LIBDIR)
	ln -sf libmap.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libmap.so
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCDIR)/libmap
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@VERSION@|$(VERSION)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|; s|@LIBS@|$(BACKEND_LIBS)|' \
	    libmap/libmap.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libmap.pc
	for m in man/*.[358]; do install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}; done
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 completion/relaymap.bash $(DESTDIR)$(COMPLETIONDIR)/mapc
	for t in relayconv relaytest; do ln -sf mapc $(DESTDIR)$(COMPLETIONDIR)/$$t; done

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(LIBDIR)/libmap.a \
	    $(DESTDIR)$(LIBDIR)/libmap.so $(DESTDIR)$(LIBDIR)/libmap.so.$(SOVERSION) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/libmap.pc
	rm -rf $(DESTDIR)$(INCDIR)/libmap
	for m in man/*.[358]; do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; done
	rm -f $(DESTDIR)$(COMPLETIONDIR)/mapc $(DESTDIR)$(COMPLETIONDIR)/relayconv \
	    $(DESTDIR)$(COMPLETIONDIR)/relaytest

clean:
	rm -rf build build-san build-fuzz

# --- Debian packages -----------------------------------------------------------

# dpkg-buildpackage writes into the parent of the tree it builds, so the
# tree (tracked and new files, not build output) is copied under $(DEB_DIR)
# first; the .debs, .changes and .buildinfo end up in $(DEB_DIR).
DEB_DIR ?= build/deb
deb:
	@sh mk/deb.sh "$(DEB_DIR)" $(VERSION)

-include $(LIB_OBJS:.o=.d) $(PIC_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(TOOLS:%=$(O)/tools/%.d) $(O)/tools/tool.d
