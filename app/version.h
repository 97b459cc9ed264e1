/* app/version.h — the one place xturn's version is written. */
#ifndef XTURN_APP_VERSION_H
#define XTURN_APP_VERSION_H

#define XTURN_VERSION "0.1.0"

#endif
