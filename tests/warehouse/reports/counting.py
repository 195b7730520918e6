"""A lake connection that counts the queries run on it (to see how many queries a report ran)."""


class Counting:
    """Runs queries on `con`, counting them."""

    def __init__(self, con):
        self.con = con
        self.queries = 0

    def execute(self, *args):
        self.queries += 1
        return self.con.execute(*args)
