/* src/theory/theory_network.c: the model's network as the mean-field theory sees it: the mean
 * input of each population (mg_theory_mu) and the coupling matrix (mg_theory_coupling), used by
 * the fixed points (src/theory/theory_fixed.c) and the network spectrum
 * (src/theory/theory_spectrum.c). Its own file, below both, so that neither calls the other back. */
#include "theory/theory_internal.h"

void mg_theory_mu(const mg_model *m, double t_ms, double *mu_mV)
{
    for (int a = 0; a < m->P; a++) {
        const mg_pop *p = &m->pops[a];
        double I_pA = p->I_e + (t_ms >= 0 ? mg_pop_step_current(p, t_ms) : 0.0);
        if (mg_pop_ou_stationary(p))
            I_pA += p->ou_mean;
        mu_mV[a] = p->E_L + I_pA * p->tau_m / p->C_m; /* pA * ms / pF = mV */
    }
}

void mg_theory_coupling(const mg_model *m, double *w)
{
    const int P = m->P;
    for (int i = 0; i < P * P; i++)
        w[i] = 0.0;
    for (int k = 0; k < m->n_proj; k++) {
        const mg_proj *pj = &m->proj[k];
        /* tau_m in seconds: w in mV/Hz (MODEL.md §2.2) */
        w[pj->target * P + pj->source] +=
            pj->J * pj->p * (double)m->pops[pj->source].N * m->pops[pj->target].tau_m * 1e-3;
    }
}
