/*
 * banned.h - libc calls sluice does not use, made compile errors.
 *
 * Each has a bounded or checked replacement: snprintf / sl_buf_addf for the
 * sprintf family, memcpy with a known length for strcpy/strcat, strtoll with
 * end and errno checks (sl_parse_i64) for ato*, strtok_r-free splitting by
 * hand.  Include it last, after every system header.
 */
#ifndef SL_BANNED_H
#define SL_BANNED_H

#define SL_BANNED(func) sorry_##func##_is_banned_in_sluice

#undef strcpy
#define strcpy(x, y) SL_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SL_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SL_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) SL_BANNED(strncat)
#undef sprintf
#define sprintf(...) SL_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SL_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) SL_BANNED(strtok)
#undef atoi
#define atoi(x) SL_BANNED(atoi)
#undef atol
#define atol(x) SL_BANNED(atol)
#undef atoll
#define atoll(x) SL_BANNED(atoll)
#undef atof
#define atof(x) SL_BANNED(atof)
#undef gets
#define gets(x) SL_BANNED(gets)

#endif
