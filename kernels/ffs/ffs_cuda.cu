/* kernels/ffs/ffs_cuda.cu: the host side of a trials call of the FFS CUDA engines
 * (kernels/ffs/ffs_cuda.cuh): the trials that run and their start states to the device, the
 * slots, launches until every trial has ended (the cancel flag and the fault record checked
 * after each), then the outcomes and the successes' end states back into the driver's trials. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffs_cuda.cuh"
#include "../cuda_check.cuh"  /* MG_CUDA_TRY */
#include "../cuda_common.cuh" /* mg_cu_to_device */

int mg_ffs_cu_trials(mg_ffs_job *J, const mg_ffs_cu_run *R, mg_ffs_trial *tr, int n, int d,
                     double lam_A, double lam_next, mg_err *err)
{
    int rc = MG_OK;
    const long long rows = J->rows;
    mg_ffs_cu_list *L = R->L;
    int *idx = (int *)malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    mg_ffs_trial *h_tr = (mg_ffs_trial *)malloc((size_t)(n > 0 ? n : 1) * sizeof(mg_ffs_trial));
    double *h_start = NULL;
    long long nrun = 0, slots;
    memset(L, 0, sizeof *L);
    if (!idx || !h_tr) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; ++i)
        if (!tr[i].skip) {
            idx[nrun] = i;
            h_tr[nrun++] = tr[i];
        }
    if (nrun == 0)
        goto out;
    h_start = (double *)malloc((size_t)(nrun * rows) * sizeof(double));
    if (!h_start) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
        goto out;
    }
    for (long long k = 0; k < nrun; ++k)
        memcpy(h_start + k * rows, h_tr[k].start, (size_t)rows * sizeof(double));
    slots = nrun < R->max_slots ? nrun : R->max_slots;
    if (J->dev_slots > 0 && slots > J->dev_slots)
        slots = J->dev_slots;
    L->n = nrun;
    L->rows = rows;
    L->slots = slots;
    L->d = d;
    L->lam_A = lam_A;
    L->lam_next = lam_next;
    L->cap = J->trial_cap_steps;
    MG_CUDA_TRY(mg_cu_to_device((void **)&L->tr, h_tr, (size_t)nrun * sizeof(mg_ffs_trial)));
    MG_CUDA_TRY(mg_cu_to_device((void **)&L->start, h_start,
                                (size_t)(nrun * rows) * sizeof(double)));
    MG_CUDA_TRY(cudaMalloc((void **)&L->end, (size_t)(nrun * rows) * sizeof(double)));
    MG_CUDA_TRY(cudaMalloc((void **)&L->state, (size_t)(slots * rows) * sizeof(double)));
    MG_CUDA_TRY(cudaMalloc((void **)&L->slot_q, (size_t)slots * sizeof(long long)));
    MG_CUDA_TRY(cudaMemset(L->slot_q, 0xff, (size_t)slots * sizeof(long long))); /* idle */
    MG_CUDA_TRY(cudaMalloc((void **)&L->slot_t, (size_t)slots * sizeof(long long)));
    MG_CUDA_TRY(cudaMalloc((void **)&L->next, 2 * sizeof(unsigned long long)));
    MG_CUDA_TRY(cudaMemset(L->next, 0, 2 * sizeof(unsigned long long)));
    L->done = L->next + 1;
    {
        mg_ffs_cu_fault none = {-1, 0, 0, 0, 0};
        MG_CUDA_TRY(mg_cu_to_device((void **)&L->fault, &none, sizeof none));
    }
    for (;;) {
        R->launch(R->ctx, slots, R->steps);
        MG_CUDA_TRY(cudaGetLastError());
        MG_CUDA_TRY(cudaDeviceSynchronize());
        mg_ffs_cu_fault f;
        unsigned long long done;
        MG_CUDA_TRY(cudaMemcpy(&f, L->fault, sizeof f, cudaMemcpyDeviceToHost));
        MG_CUDA_TRY(cudaMemcpy(&done, L->done, sizeof done, cudaMemcpyDeviceToHost));
        if (f.real >= 0) {
            rc = R->fault_msg(J, &f, err);
            goto out;
        }
        if ((long long)done >= nrun)
            break;
        if (J->o.cancel && *J->o.cancel) {
            rc = mg_err_set(err, MG_EINTR, "interrupted");
            goto out;
        }
    }
    MG_CUDA_TRY(cudaMemcpy(h_tr, L->tr, (size_t)nrun * sizeof(mg_ffs_trial),
                           cudaMemcpyDeviceToHost));
    for (long long k = 0; k < nrun; ++k) {
        mg_ffs_trial *t = &tr[idx[k]];
        t->outcome = h_tr[k].outcome;
        t->max_lam = h_tr[k].max_lam;
        t->end_lam = h_tr[k].end_lam;
        t->end_t = h_tr[k].end_t;
        if (t->outcome == 1 && t->end_state)
            MG_CUDA_TRY(cudaMemcpy(t->end_state, L->end + k * rows,
                                   (size_t)rows * sizeof(double), cudaMemcpyDeviceToHost));
    }
out:
    cudaFree(L->tr);
    cudaFree((void *)L->start);
    cudaFree(L->end);
    cudaFree(L->state);
    cudaFree(L->slot_q);
    cudaFree(L->slot_t);
    cudaFree(L->next);
    cudaFree(L->fault);
    memset(L, 0, sizeof *L);
    free(idx);
    free(h_tr);
    free(h_start);
    return rc;
}
