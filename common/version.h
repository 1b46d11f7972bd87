/*
 * version.h - the zt release every binary reports.
 */
#ifndef ZT_VERSION_H
#define ZT_VERSION_H

#define ZT_VERSION "0.1.0"

#endif
