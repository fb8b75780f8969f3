/* Monotonic and wall clocks in ns; sleep in ms (through EINTR). */
#ifndef IR_CLOCK_H
#define IR_CLOCK_H

#include <stdint.h>

uint64_t ir_clock_mono(void);
int64_t ir_clock_wall(void);
void ir_sleep_ms(uint64_t ms);

#endif
