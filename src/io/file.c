/* Files: whole-file reads with limits, and writes that never leave a half-written or
 * clobbered file (a temporary beside the target, then rename). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actfit/table.h"
#include "core/util.h"

actfit_status actfit_read_file(const char *path, char **out, size_t *len, char *err,
                               size_t errlen)
{
  *out = NULL;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below) */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0) {
    actfit__seterr(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return ACTFIT_EIO;
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    actfit__seterr(err, errlen, "'%s' is not a regular file (a %s); tables and samples are "
                   "read from regular files", path,
                   S_ISDIR(sb.st_mode) ? "directory" : S_ISFIFO(sb.st_mode) ? "FIFO"
                   : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "device" : "socket");
    return ACTFIT_EIO;
  }
  if ((unsigned long long)sb.st_size > ACTFIT_READ_MAX) {
    close(fd);
    actfit__seterr(err, errlen, "'%s' has %lld bytes, more than the limit of %llu",
                   path, (long long)sb.st_size, (unsigned long long)ACTFIT_READ_MAX);
    return ACTFIT_EIO;
  }
  /* read to the end (the file may grow while it is read), never past the limit */
  size_t cap = (size_t)sb.st_size + 1, n = 0;
  char *buf = malloc(cap + 1);
  actfit_status st = buf ? ACTFIT_OK : ACTFIT_ENOMEM;
  while (st == ACTFIT_OK) {
    if (n == cap) {
      char *nb = cap < ACTFIT_READ_MAX ? realloc(buf, 2 * cap + 1) : NULL;
      if (!nb) {
        st = cap < ACTFIT_READ_MAX ? ACTFIT_ENOMEM : ACTFIT_EIO;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      actfit__seterr(err, errlen, "cannot read '%s': %s", path, strerror(errno));
      st = ACTFIT_EIO;
    } else if (r == 0) {
      break;
    }
    n += (size_t)(r > 0 ? r : 0);
  }
  close(fd);
  if (st == ACTFIT_ENOMEM)
    actfit__seterr(err, errlen, "out of memory reading '%s'", path);
  else if (st == ACTFIT_EIO && n >= ACTFIT_READ_MAX)
    actfit__seterr(err, errlen, "'%s' grew past the limit of %llu bytes while it was read",
                   path, (unsigned long long)ACTFIT_READ_MAX);
  if (st != ACTFIT_OK) {
    free(buf);
    return st;
  }
  buf[n] = 0;
  *out = buf;
  if (len)
    *len = n;
  return ACTFIT_OK;
}

static actfit_status write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return ACTFIT_EIO;
    p += w;
    len -= (size_t)w;
  }
  return ACTFIT_OK;
}

/* Messages quote at most the last 60 characters of a path, so the reason after the quote
 * fits the caller's buffer (a legal 250-character name cut the reason off). */
#define PATH_Q "'%s%s'"
#define PATH_A(p) strlen(p) > 60 ? "..." : "", strlen(p) > 60 ? (p) + strlen(p) - 57 : (p)

/* The file a write to path lands in: the target of a symlink (followed, as an editor
 * would), else path itself.  *st is filled when it exists (*exists = 1). */
static char *write_target(const char *path, struct stat *st, int *exists)
{
  char *real = NULL;
  struct stat l;
  if (lstat(path, &l) == 0 && S_ISLNK(l.st_mode)) {
    real = realpath(path, NULL);
    if (!real) { /* a dangling link: its target, next to the link when relative */
      char to[4096];
      ssize_t n = readlink(path, to, sizeof to - 1);
      const char *slash = strrchr(path, '/');
      size_t dl = to[0] == '/' || !slash ? 0 : (size_t)(slash - path) + 1;
      if (n > 0 && (real = malloc(dl + (size_t)n + 1))) {
        to[n] = 0;
        if (to[0] == '/')
          dl = 0;
        memcpy(real, path, dl);
        memcpy(real + dl, to, (size_t)n + 1);
      }
    }
  }
  *exists = stat(real ? real : path, st) == 0;
  return real ? real : strdup(path);
}

actfit_status actfit_check_writable(const char *path, char *err, size_t errlen)
{
  if (!path || !*path) {
    actfit__seterr(err, errlen, "empty output path");
    return ACTFIT_EINVAL;
  }
  if (!strcmp(path, "-"))
    return ACTFIT_OK;
  if (path[strlen(path) - 1] == '/') {
    actfit__seterr(err, errlen, "cannot write " PATH_Q ": it names a directory (a file name "
                   "is needed)", PATH_A(path));
    return ACTFIT_EINVAL;
  }
  struct stat st;
  int exists;
  char *target = write_target(path, &st, &exists);
  if (!target)
    return ACTFIT_ENOMEM;
  actfit_status rc = ACTFIT_OK;
  if (exists && S_ISDIR(st.st_mode)) {
    actfit__seterr(err, errlen, "cannot write " PATH_Q ": it is a directory (a file name is "
                   "needed)", PATH_A(path));
    rc = ACTFIT_EINVAL;
  } else if (exists && !S_ISREG(st.st_mode)) {
    if (access(target, W_OK) != 0) {
      actfit__seterr(err, errlen, "cannot write " PATH_Q ": %s", PATH_A(path), strerror(errno));
      rc = ACTFIT_EIO;
    }
  } else {
    /* a regular or new file is replaced through a temporary file beside it */
    char *dir = strdup(target), *slash = dir ? strrchr(dir, '/') : NULL;
    const char *d = !dir ? NULL : !slash ? "." : slash == dir ? "/" : (*slash = 0, dir);
    struct stat ds;
    if (!d)
      rc = ACTFIT_ENOMEM;
    else if (stat(d, &ds) != 0 || !S_ISDIR(ds.st_mode)) {
      actfit__seterr(err, errlen, "cannot write " PATH_Q ": its directory %s",
                     PATH_A(path), errno == ENOENT || stat(d, &ds) != 0 ? "does not exist"
                                                                          : "is not a directory");
      rc = ACTFIT_EIO;
    } else if (access(d, W_OK | X_OK) != 0) {
      actfit__seterr(err, errlen, "cannot write " PATH_Q ": its directory: %s", PATH_A(path),
                     strerror(errno));
      rc = ACTFIT_EIO;
    }
    free(dir);
  }
  free(target);
  return rc;
}

actfit_status actfit_write_file(const char *path, const void *data, size_t len, char *err,
                                size_t errlen)
{
  if (path && !strcmp(path, "-")) { /* standard output */
    if (write_all(STDOUT_FILENO, data, len) != ACTFIT_OK) {
      actfit__seterr(err, errlen, "cannot write to standard output: %s", strerror(errno));
      return ACTFIT_EIO;
    }
    return ACTFIT_OK;
  }
  actfit_status rc = actfit_check_writable(path, err, errlen);
  if (rc != ACTFIT_OK)
    return rc;
  struct stat st;
  int exists;
  char *target = write_target(path, &st, &exists);
  if (!target)
    return ACTFIT_ENOMEM;
  if (exists && !S_ISREG(st.st_mode)) {
    /* a device, FIFO or socket is written directly, never replaced */
    int fd = open(target, O_WRONLY | O_NOCTTY);
    rc = fd >= 0 ? write_all(fd, data, len) : ACTFIT_EIO;
    if (fd >= 0 && close(fd) != 0)
      rc = ACTFIT_EIO;
    if (rc != ACTFIT_OK)
      actfit__seterr(err, errlen, "cannot write " PATH_Q ": %s", PATH_A(path), strerror(errno));
    free(target);
    return rc;
  }
  /* a regular or new file: a temporary file beside it, renamed over it (the old mode kept);
   * the temporary name is short, so any legal name can be written */
  const char *slash = strrchr(target, '/');
  size_t dlen = slash ? (size_t)(slash - target) + 1 : 0;
  char *tmp = malloc(dlen + 32);
  if (!tmp) {
    free(target);
    return ACTFIT_ENOMEM;
  }
  memcpy(tmp, target, dlen);
  strcpy(tmp + dlen, ".actfit-tmpXXXXXX");
  int fd = mkstemp(tmp);
  if (fd < 0) {
    actfit__seterr(err, errlen, "cannot write " PATH_Q ": %s", PATH_A(path), strerror(errno));
    free(tmp);
    free(target);
    return ACTFIT_EIO;
  }
  mode_t mode;
  if (exists)
    mode = st.st_mode & 07777;
  else {
    mode_t um = umask(0);
    umask(um);
    mode = 0666 & ~um;
  }
  int ok = write_all(fd, data, len) == ACTFIT_OK && fchmod(fd, mode) == 0;
  ok = (close(fd) == 0) && ok;
  if (ok)
    ok = rename(tmp, target) == 0;
  if (!ok) {
    actfit__seterr(err, errlen, "cannot write " PATH_Q ": %s", PATH_A(path), strerror(errno));
    unlink(tmp);
    rc = ACTFIT_EIO;
  }
  free(tmp);
  free(target);
  return rc;
}
