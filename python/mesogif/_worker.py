"""A library call on a worker thread that Ctrl-C cancels (mesogif.run, mesogif.switch).

The call runs on its own thread and the main thread waits on it in short joins, so that Ctrl-C
(KeyboardInterrupt) reaches Python at once; it then sets the library's cancel flag and waits
until the library has stopped, since the call runs on memory this side owns."""
import threading
from typing import Any, Callable, Optional, Tuple


def call_cancellable(call: Callable[[], int], cancel: Any, name: str,
                     poll: Optional[Callable[[], None]] = None) -> Tuple[Optional[int], bool]:
    """Run call() (it returns the library's status) on a worker thread; poll() every 0.1 s while
    it runs. cancel: the cffi ``int *`` the library reads. Returns (status, interrupted): status
    None when the call did not return one; interrupted when a Ctrl-C arrived."""
    outcome = {}

    def work():
        outcome["rc"] = call()

    worker = threading.Thread(target=work, name=name, daemon=True)
    interrupted = False
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            if poll is not None:
                poll()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # whatever ended the wait (Ctrl-C at any point, another exception): cancel, and never
        # leave while the library still runs on this call's memory; further Ctrl-Cs are absorbed
        if worker.is_alive():
            cancel[0] = 1
        while worker.is_alive():
            try:
                worker.join(0.1)
            except KeyboardInterrupt:
                interrupted = True
    return outcome.get("rc"), interrupted
