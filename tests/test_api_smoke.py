def test_me_shows_the_wallet_of_a_volunteer(api, world):
    response = api.get("/me", as_="rider")
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "rider"
    assert body["roles"] == ["volunteer"]
    assert body["wallet"] == {"posted_points": 0, "pending_points": 0, "available_points": 0}


def test_award_moves_budget_into_wallet(api, world):
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer",
                        json={"volunteer_id": world.ids["rider"], "amount_points": 20,
                              "reason": "上报交通信号灯故障"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "posted"
    assert api.get("/me", as_="rider").get_json()["wallet"]["available_points"] == 20
