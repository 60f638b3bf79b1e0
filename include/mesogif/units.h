/* include/mesogif/units.h: quantities with units on the command line ("10s", "0.5ms", "1Hz"). */
#ifndef MESOGIF_UNITS_H
#define MESOGIF_UNITS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Parse a duration: a number followed by us, ms, s, min or h; a bare number means ms.
 * Returns 0 and *ms on success, -1 on a malformed text, an unknown unit or a non-finite value. */
int mg_parse_duration_ms(const char *text, double *ms);

/* Parse a frequency: a number followed by Hz or kHz (bare number: Hz). Same contract. */
int mg_parse_frequency_hz(const char *text, double *hz);

/* Format a duration in ms as the shortest readable text ("1.5 s", "200 ms"). */
void mg_format_duration(double ms, char *buf, int len);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_UNITS_H */
