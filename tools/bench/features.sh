#!/bin/sh
# features.sh — throughput of image features (core/analysis).
#
#   tools/bench/features.sh [N]      (default 2000 images)
#
# Generates N ~100 KB JPEGs with genimages, stores them in a temp store and
# times folio_features_many with/without pixels, 1 and 2 threads, then a
# cold and a warm cache. Needs `make` (release) first.
set -eu
N=${1:-2000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build/release
TMP=$(mktemp -d /tmp/folio-featbench-XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
"$B/bin/genimages" "$TMP/img" "$N" --seed 3 >/dev/null
cat > "$TMP/bench.c" <<'CEOF'
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "folio/analysis.h"
#include "folio/error.h"
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
 /* fbench DIR STOREDIR */
 char pat[4096];snprintf(pat,sizeof pat,"%s/*.jpg",argv[1]);glob_t g;glob(pat,0,NULL,&g);

 folio_store*st;if(folio_store_open(&st,argv[2],1)){fprintf(stderr,"%s\n",folio_error_last());return 1;}
 folio_oid*oids=calloc(g.gl_pathc,sizeof*oids);
 for(size_t i=0;i<g.gl_pathc;i++) if(folio_store_put_file(&oids[i],NULL,NULL,st,g.gl_pathv[i])){fprintf(stderr,"%s\n",folio_error_last());return 1;}
 folio_features*f=calloc(g.gl_pathc,sizeof*f);folio_analysis_init();
 for(int px=0;px<2;px++)for(int th=1;th<=2;th++){
  double t=now();int rc=folio_features_many(f,st,oids,g.gl_pathc,NULL,px,th,NULL,NULL);t=now()-t;
  size_t bad=0;for(size_t i=0;i<g.gl_pathc;i++)bad+=!f[i].decodable;
  printf("pixels=%d threads=%d: %zu images in %.2fs = %.0f images/s (rc=%d, undecodable=%zu)\n",px,th,g.gl_pathc,t,g.gl_pathc/t,rc,bad);}
 char cd[4096];snprintf(cd,sizeof cd,"%s/../cache",argv[2]);
 double t=now();folio_features_many(f,st,oids,g.gl_pathc,cd,1,2,NULL,NULL);t=now()-t;printf("cold cache, pixels, 2 threads: %.0f images/s\n",g.gl_pathc/t);
 t=now();folio_features_many(f,st,oids,g.gl_pathc,cd,1,2,NULL,NULL);t=now()-t;printf("warm cache, pixels, 2 threads: %.0f images/s\n",g.gl_pathc/t);
 return 0;}
CEOF
cc -O2 -I"$ROOT/include" "$TMP/bench.c" -o "$TMP/bench" "$B/libfolio.a" \
	$(pkg-config --libs libgit2 libzstd libcjson libcrypto vips) -lm -pthread
mkdir -p "$TMP/store"
"$TMP/bench" "$TMP/img" "$TMP/store/objects"
