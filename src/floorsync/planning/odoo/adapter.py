class OdooAdapter:  # placeholder, replaced below
    def __init__(self, *a, **k):
        raise NotImplementedError
